-- fct_trade_flows_hs2022 (a view) re-expresses every fact row: per source × frequency × period ×
-- reporter × flow, its values sum back to the fact's and its split weights add up to the number of
-- fact rows (each row's HS2022 shares sum to 1, so a lost or doubled row shows as a gap of 1).
-- Checked at that grain rather than per trade_flow_key so that the check costs one grouped scan
-- of the view, not a join of two 10-million-row key sets; a per-row loss still shows in its group.
-- Exact decimal sums: the summation order cannot hide or invent a gap.
-- After an incremental build, the groups of the partitions it re-derived (and the national sources):
-- the other fact rows did not change, and assert_hs2022_view_inputs checks on the whole weight table
-- that every code's weights sum to 1. Every group after a full build or with var full_tests.
{%- set scope = fct_last_build_scope(ref('fct_trade_flows')) %}
with

facts as (

    select
        source, freq_code, period_key, reporter_code, flow_code,
        count(*) as fact_rows,
        sum(cast(value_usd as decimal(38, 6))) as value_usd
    from {{ ref('fct_trade_flows') }}
    where source <> 'comtrade' or {{ scope }}
    group by all

),

bridged as (

    select
        source, freq_code, period_key, reporter_code, flow_code,
        sum(cast(hs2022_weight as decimal(38, 12))) as weight_total,
        sum(cast(value_usd as decimal(38, 6))) as value_usd
    from {{ ref('fct_trade_flows_hs2022') }}
    where source <> 'comtrade' or {{ scope }}
    group by all

)

select
    source, freq_code, period_key, reporter_code, flow_code,
    f.fact_rows,
    b.weight_total,
    f.value_usd,
    b.value_usd as bridged_value_usd
from facts as f
full outer join bridged as b using (source, freq_code, period_key, reporter_code, flow_code)
where f.fact_rows is null
   or b.weight_total is null
   or abs(b.weight_total - f.fact_rows) > 1e-6 * f.fact_rows
   or abs(coalesce(b.value_usd, 0) - coalesce(f.value_usd, 0)) > 1e-6 * greatest(abs(f.value_usd), 1)
