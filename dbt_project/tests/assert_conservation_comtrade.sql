-- Value conservation, UN Comtrade: for every frequency and period, the total value and the row count
-- of fct_trade_flows equal those of the lake to the cent, after the same selection the pipeline makes
-- (files not blocked by the quality gate, the latest vintage of each record key — a published one before
-- a SYNTHETIC sample one, as stg_comtrade__records picks — fact-grain rows:
-- HS6, partner2 0, customs C00, mode of transport 0). Sums are exact decimals, so the summation order
-- cannot hide or invent a cent. Returns the periods that differ, with the gap.
-- Shown in Dagster as a check of fct_trade_flows (it reads the lake source too).
-- After an incremental build, checks the partitions that build re-derived (the others are unchanged
-- since the build that checked them); every partition after a full build or with var full_tests.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
{%- set scope = fct_last_build_scope(ref('fct_trade_flows')) %}
with

lake as (

    select *
    from {{ source('comtrade', 'records') }}
    where source_file not in ({{ gate_blocked_source_files('comtrade', 'records') }})
      and {{ scope }}
    {% if var('as_of', none) %}
    and cast(fetched_at as timestamp) < cast('{{ var("as_of") }}' as date) + interval 1 day
    {% endif %}

),

-- A record key can only repeat across the vintages of one lake partition (frequency × year ×
-- reporter; a file never repeats a key): partitions with one vintage need no ranking.
vintages as (

    select freq_code, ref_year, reporter_code, count(distinct vintage) as n_vintages
    from lake
    group by all

),

latest as (

    select l.*
    from lake as l
    semi join vintages as v
        on v.freq_code = l.freq_code and v.ref_year = l.ref_year and v.reporter_code = l.reporter_code
        and v.n_vintages = 1
    union all
    select l.*
    from lake as l
    semi join vintages as v
        on v.freq_code = l.freq_code and v.ref_year = l.ref_year and v.reporter_code = l.reporter_code
        and v.n_vintages > 1
    qualify row_number() over (
        partition by l.freq_code, l.period, l.reporter_code, l.partner_code, l.partner2_code, l.flow_code,
            l.cmd_code, l.customs_code, l.mot_code
        order by case when l.origin = 'sample' then 1 else 0 end, l.fetched_at desc, l.vintage desc
    ) = 1

),

lake_totals as (

    select
        freq_code,
        period as period_key,
        count(*) as lake_rows,
        sum(cast(primary_value as decimal(38, 6))) as lake_usd
    from latest
    where aggr_level = 6 and partner2_code = 0 and customs_code = 'C00' and mot_code = 0
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
