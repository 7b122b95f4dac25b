-- Value conservation, UN Comtrade: for every frequency and period, the total value and the row count
-- of fct_trade_flows equal those of the lake to the cent, after the selection the pipeline makes, by its
-- own SQL (files not blocked by the quality gate, the latest vintage of each record key — a published one
-- before a SYNTHETIC sample one — as stg_comtrade__records picks; fact-grain rows:
-- HS6, partner2 0, customs C00, mode of transport 0). Sums are exact decimals, so the summation order
-- cannot hide or invent a cent. Returns the periods that differ, with the gap.
-- Shown in Dagster as a check of fct_trade_flows (it reads the lake source too).
-- After an incremental build, checks the partitions that build re-derived (the others are unchanged
-- since the build that checked them); every partition after a full build or with var full_tests.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
{%- set scope = fct_last_build_scope(ref('fct_trade_flows')) %}
with

-- the lake after the pipeline's own selection (the SQL of stg_comtrade__records, macros/comtrade_records.sql),
-- over the partitions in scope: after an incremental build, their lake files alone, read by path
latest as (

    {{ stg_comtrade_records_sql(fct_last_build_lake(ref('fct_trade_flows'))) }}

),

lake_totals as (

    select
        freq_code,
        period as period_key,
        count(*) as lake_rows,
        sum(cast(primary_value as decimal(38, 6))) as lake_usd
    from latest
    where aggr_level = 6 and partner2_code = 0 and customs_code = 'C00' and mot_code = 0
      and {{ scope }}
    group by 1, 2

),

mart_totals as (

    select
        freq_code,
        period_key,
        count(*) as mart_rows,
        sum(cast(value_usd as decimal(38, 6))) as mart_usd
    from {{ ref('fct_trade_flows') }}
    where source = 'comtrade'
      and {{ scope }}
    group by 1, 2

)

select
    freq_code,
    period_key,
    l.lake_rows,
    m.mart_rows,
    l.lake_usd,
    m.mart_usd,
    coalesce(m.mart_usd, 0) - coalesce(l.lake_usd, 0) as gap_usd
from lake_totals as l
full outer join mart_totals as m using (freq_code, period_key)
where coalesce(l.lake_rows, 0) <> coalesce(m.mart_rows, 0)
    or abs(coalesce(m.mart_usd, 0) - coalesce(l.lake_usd, 0)) >= 0.01
