-- Value conservation, national customs sources (Korea Customs `kcs`, Japan MOF `japan_mof`): for every
-- source and month, fct_trade_flows has the US-dollar total and the number of flows that the staging
-- lines give when re-derived here, independently of int_national__lines_usd:
--   kcs        stg_kcs__trade (latest response per month × partner × HSK10, gate-blocked files excluded):
--              Korea publishes US dollars, each line rounded to the cent;
--   japan_mof  stg_japan__trade (latest file per year × direction, gate-blocked files excluded, ports
--              summed): round(thousand yen × 1000 × USD per JPY of the month, 2) per line.
-- Sums are exact decimals, so a cent lost or doubled by the roll-up from national lines (HSK10, HS9) to
-- HS6 flows shows. The number of flows (partner × flow × HS6) must equal the fact's rows: a flow whose
-- lines all report 0 is a fact row with 0 (zero is data), so a roll-up that dropped zero rows fails
-- even though no dollar is lost. Also fails when a source's month has staging lines but no fact rows,
-- or the reverse, and when a line's month has no exchange rate (its value would be null, silently left
-- out of the fact). Returns the source × months that differ, with the gap.
-- Shown in Dagster as a check of fct_trade_flows.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
with

jpy as (

    select period_key, usd_per_unit
    from {{ ref('int_fx__usd_monthly_rates') }}
    where currency = 'JPY'

),

lines as (

    select
        source,
        period_key,
        partner_iso2 as partner,
        flow_code,
        hs6,
        cast(1.0 as double) as usd_per_unit,
        round(cast(value_usd as double), 2) as line_usd
    from {{ ref('stg_kcs__trade') }}
    union all
    select
        j.source,
        j.period_key,
        j.partner_japan_code,
        j.flow_code,
        j.hs6,
        r.usd_per_unit,
        round(j.value_thousand_jpy * 1000 * r.usd_per_unit, 2)
    from {{ ref('stg_japan__trade') }} as j
    left join jpy as r on r.period_key = j.period_key

),

staging_totals as (

    select
        source,
        period_key,
        count(*) as staging_lines,
        count(*) filter (where usd_per_unit is null) as lines_without_rate,
        count(distinct (partner, flow_code, hs6)) as staging_flows,
        sum(cast(line_usd as decimal(38, 6))) as staging_usd
    from lines
    group by 1, 2

),

mart_totals as (

    select
        source,
        period_key,
        count(*) as mart_rows,
        sum(cast(value_usd as decimal(38, 6))) as mart_usd
    from {{ ref('fct_trade_flows') }}
    where source in ('kcs', 'japan_mof')
    group by 1, 2

)

select
    source,
    period_key,
    s.staging_lines,
    s.lines_without_rate,
    s.staging_flows,
    m.mart_rows,
    s.staging_usd,
    m.mart_usd,
    coalesce(m.mart_usd, 0) - coalesce(s.staging_usd, 0) as gap_usd
from staging_totals as s
full outer join mart_totals as m using (source, period_key)
where s.period_key is null
    or m.period_key is null
    or s.lines_without_rate > 0
    or s.staging_flows <> m.mart_rows
    or abs(coalesce(m.mart_usd, 0) - coalesce(s.staging_usd, 0)) >= 0.01
