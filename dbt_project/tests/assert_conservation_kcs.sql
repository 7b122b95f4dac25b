-- Value conservation, Korea Customs: for every month, the total US-dollar value of fct_trade_flows
-- (source kcs) equals the total re-derived from stg_kcs__trade (latest response per month × partner ×
-- HSK10, gate-blocked files excluded, one row per flow), converted as int_fx__national_lines_usd does:
-- Korea publishes US dollars, each line rounded to the cent. Sums are exact decimals, so a cent lost or
-- doubled by the roll-up from HSK10 lines to HS6 flows shows. Also fails when a month has staging
-- lines but no fact rows, or the reverse, and when the number of flows (partner × flow × HS6) differs:
-- a flow whose lines all report 0 is a fact row with 0 (zero is data), so a roll-up that dropped zero
-- rows fails here even though no dollar is lost. Returns the months that differ, with the gap.
-- Shown in Dagster as a check of fct_trade_flows.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
with

staging_totals as (

    select
        period_key,
        count(*) as staging_lines,
        count(distinct (partner_iso2, flow_code, hs6)) as staging_flows,
        sum(cast(round(cast(value_usd as double), 2) as decimal(38, 6))) as staging_usd
    from {{ ref('stg_kcs__trade') }}
    group by 1

),

mart_totals as (

    select
        period_key,
        count(*) as mart_rows,
        sum(cast(value_usd as decimal(38, 6))) as mart_usd
    from {{ ref('fct_trade_flows') }}
    where source = 'kcs'
    group by 1

)

select
    period_key,
    s.staging_lines,
    s.staging_flows,
    m.mart_rows,
    s.staging_usd,
    m.mart_usd,
    coalesce(m.mart_usd, 0) - coalesce(s.staging_usd, 0) as gap_usd
from staging_totals as s
full outer join mart_totals as m using (period_key)
where s.period_key is null
    or m.period_key is null
    or s.staging_flows <> m.mart_rows
    or abs(coalesce(m.mart_usd, 0) - coalesce(s.staging_usd, 0)) >= 0.01
