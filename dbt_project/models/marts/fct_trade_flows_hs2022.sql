{{ config(materialized=mart_view()) }}
-- One row per fct_trade_flows row × HS2022 code it maps to: every flow re-expressed in HS2022
-- (H6) codes so that series reported under HS1992…HS2017 join the HS2022 ones. value_usd,
-- net_weight_kg are the reported figures times the split weight of int_hs__split_weights (summed
-- over the HS2022 codes of one flow they give back the reported figure). A flow whose code has no
-- HS2022 successor keeps one row with a null hs6_2022 and is_unbridgeable = true. HS2022 codes
-- with a zero weight (no trade under them) are left out.
with

flows as (

    select * from {{ ref('fct_trade_flows') }}

),

weights as (

    select hs_version, hs6, target_hs6, weight, weight_method
    from {{ ref('int_hs__split_weights') }}
    where target_version = 'H6'

),

code_map as (

    select hs_version, hs6, target_hs6, breaks
    from {{ ref('int_hs__code_map') }}
    where target_version = 'H6'

),

products as (

    select hs6, segment, sub_segment, is_partly_semiconductor
    from {{ ref('dim_product') }}
    where hs_version = 'H6'

),

final as (

    select
        md5(f.trade_flow_key || '|' || coalesce(w.target_hs6, '')) as trade_flow_hs2022_key,
        f.trade_flow_key,
        f.source,
        f.origin,
        f.freq_code,
        f.period_key,
        f.ref_year,
        f.ref_month,
        f.reporter_code,
        f.partner_code,
        f.flow_code,
        f.hs_version as reported_hs_version,
        f.hs6 as reported_hs6,
        w.target_hs6 as hs6_2022,
        case when w.target_hs6 is not null then 'H6-' || w.target_hs6 end as product_key_2022,
        p.segment,
        p.sub_segment,
        coalesce(p.is_partly_semiconductor, false) as is_partly_semiconductor,
        coalesce(w.weight, 1.0) as hs2022_weight,
        coalesce(w.weight_method, 'unmapped') as hs2022_weight_method,
        f.hs2022_relationship,
        m.breaks as hs2022_breaks,
        m.breaks is not null as is_bridged,
        w.target_hs6 is null as is_unbridgeable,
        f.value_usd * coalesce(w.weight, 1.0) as value_usd,
        f.value_usd as reported_value_usd,
        f.net_weight_kg * coalesce(w.weight, 1.0) as net_weight_kg,
        f.valuation,
        f.is_value_estimated or coalesce(w.weight, 1.0) < 1.0 as is_value_estimated,
        f.is_world_partner,
        f.is_aggregate,
        f.is_partner_eu_member,
        f.is_synthetic
    from flows as f
    left join weights as w
        on w.hs_version = f.hs_version
        and w.hs6 = f.hs6
        and w.weight > 0
    left join code_map as m
        on m.hs_version = f.hs_version
        and m.hs6 = f.hs6
        and m.target_hs6 = w.target_hs6
    left join products as p
        on p.hs6 = w.target_hs6

)

select * from final
