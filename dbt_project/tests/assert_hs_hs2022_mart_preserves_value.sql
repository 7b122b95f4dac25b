-- fct_trade_flows_hs2022 re-expresses every fact row: per trade_flow_key its values sum back to the
-- reported value, and no fact row is lost.
with

facts as (

    select trade_flow_key, value_usd from {{ ref('fct_trade_flows') }}

),

bridged as (

    select trade_flow_key, sum(value_usd) as value_usd
    from {{ ref('fct_trade_flows_hs2022') }}
    group by 1

)

select f.trade_flow_key, f.value_usd, b.value_usd as bridged_value_usd
from facts as f
left join bridged as b on b.trade_flow_key = f.trade_flow_key
where b.trade_flow_key is null
   or abs(b.value_usd - f.value_usd) > 1e-6 * greatest(abs(f.value_usd), 1)
