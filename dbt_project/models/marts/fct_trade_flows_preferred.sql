{{ config(materialized=mart_view()) }}
-- One report per flow: the safe default for BI sums. fct_trade_flows holds some flows twice — Korea's
-- imports from Japan as Korea reported them to Comtrade (source comtrade) and as Korea Customs published
-- them (source kcs); Japan's likewise (comtrade and japan_mof). This view keeps one of them by a fixed rule:
--
--   per reporter × frequency × period × flow × HS6 (a "group", every partner), the reporter's own
--   national source — kcs for Korea (410), japan_mof for Japan (392): every source but comtrade, each
--   of which publishes its own country's trade only — when it has any row in that group; else Comtrade. The whole group comes from one source, so a month's total over partners
--   never mixes two sources (a national source lists every partner it has, zeros included: a partner
--   it does not list is no trade, not a gap Comtrade should fill).
--
-- Bilateral rows only (no World or aggregate partner), flows M and X only (Comtrade's re-export,
-- re-import and processing flows are parts of X and M), so a plain sum(value_usd) within one
-- freq_code and flow_code counts every flow once. National sources are monthly: annual rows are
-- Comtrade's. A zero is a row with 0.
with

flows as (

    select *
    from {{ ref('fct_trade_flows') }}
    where not is_aggregate
      and flow_code in ('M', 'X')

),

-- a national source (every source but comtrade: kcs, japan_mof) reports its own country only, so
-- the groups it covers are those of its rows
national_groups as (

    select distinct reporter_code, freq_code, period_key, flow_code, hs6
    from flows
    where source <> 'comtrade'

),

kept as (

    -- the national source's rows
    select f.*, 'national_source' as preferred_rule
    from flows as f
    where f.source <> 'comtrade'
    union all
    -- Comtrade's rows of the groups no national source covers
    select f.*, 'comtrade_no_national_source' as preferred_rule
    from flows as f
    anti join national_groups as g
        on g.reporter_code = f.reporter_code
        and g.freq_code = f.freq_code
        and g.period_key = f.period_key
        and g.flow_code = f.flow_code
        and g.hs6 = f.hs6
    where f.source = 'comtrade'

),

final as (

    select
        k.trade_flow_key,
        k.source,
        k.preferred_rule,
        k.origin,
        k.freq_code,
        k.period_key,
        k.ref_year,
        k.ref_month,
        k.reporter_code,
        k.partner_code,
        k.flow_code,
        k.hs_version,
        k.hs6,
        k.product_key,
        k.segment,
        k.hs6_2022,
        k.product_key_2022,
        k.value_usd,
        k.valuation,
        k.net_weight_kg,
        k.quantity,
        k.quantity_unit,
        k.is_value_estimated,
        k.is_partner_eu_member,
        k.is_synthetic
    from kept as k

)

select * from final
