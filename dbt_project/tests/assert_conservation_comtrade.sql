-- Value conservation, UN Comtrade: for every frequency and period, the total value and the row count
-- of fct_trade_flows equal those of the lake to the cent, after the same selection the pipeline makes
-- (files not blocked by the quality gate, the latest vintage of each record key, fact-grain rows:
-- HS6, partner2 0, customs C00, mode of transport 0). Sums are exact decimals, so the summation order
-- cannot hide or invent a cent. Returns the periods that differ, with the gap.
-- Shown in Dagster as a check of fct_trade_flows (it reads the lake source too).
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
with

lake as (

    select *
    from {{ source('comtrade', 'records') }}
    where source_file not in ({{ gate_blocked_source_files('comtrade', 'records') }})
    {% if var('as_of', none) %}
    and cast(fetched_at as timestamp) < cast('{{ var("as_of") }}' as date) + interval 1 day
    {% endif %}

),

latest as (

    select *
    from lake
    qualify row_number() over (
        partition by freq_code, period, reporter_code, partner_code, partner2_code, flow_code,
            cmd_code, customs_code, mot_code
        order by fetched_at desc, vintage desc
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
