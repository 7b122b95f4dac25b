-- Value conservation, Japan MOF: for every month, the total US-dollar value of fct_trade_flows
-- (source japan_mof) equals the total re-derived from stg_japan__trade (latest file per year ×
-- direction, gate-blocked files excluded, ports summed), converted as int_fx__national_lines_usd does:
-- value_usd = round(thousand yen × 1000 × USD per JPY of the month, 2) per line. Sums are exact
-- decimals, so a cent lost or doubled by the roll-up from HS9 × country lines to HS6 flows shows.
-- A line whose month has no JPY rate would have a null US-dollar value (its value silently left out
-- of the fact): such months fail too (lines_without_rate > 0), as do months present on one side only.
-- Returns the months that differ, with the gap. Shown in Dagster as a check of fct_trade_flows.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
with

jpy as (

    select period_key, usd_per_unit
    from {{ ref('int_fx__usd_monthly_rates') }}
    where currency = 'JPY'

),

staging_totals as (

    select
        j.period_key,
        count(*) as staging_lines,
        count(*) filter (where r.usd_per_unit is null) as lines_without_rate,
        sum(cast(round(j.value_thousand_jpy * 1000 * r.usd_per_unit, 2) as decimal(38, 6))) as staging_usd
    from {{ ref('stg_japan__trade') }} as j
    left join jpy as r on r.period_key = j.period_key
    group by 1

),

mart_totals as (

    select
        period_key,
        count(*) as mart_rows,
        sum(cast(value_usd as decimal(38, 6))) as mart_usd
    from {{ ref('fct_trade_flows') }}
    where source = 'japan_mof'
    group by 1

)

select
    period_key,
    s.staging_lines,
    s.lines_without_rate,
    m.mart_rows,
    s.staging_usd,
    m.mart_usd,
    coalesce(m.mart_usd, 0) - coalesce(s.staging_usd, 0) as gap_usd
from staging_totals as s
full outer join mart_totals as m using (period_key)
where s.period_key is null
    or m.period_key is null
    or s.lines_without_rate > 0
    or abs(coalesce(m.mart_usd, 0) - coalesce(s.staging_usd, 0)) >= 0.01
