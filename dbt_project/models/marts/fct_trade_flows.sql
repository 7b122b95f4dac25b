-- One row per source × frequency × reporter × partner × HS6 product (as reported) × period × flow,
-- the union of every source's int_trade_flows__<source> model (same columns), joined to the
-- product dimension for the semiconductor segment. World (partner 0) and aggregate rows are kept
-- and flagged is_aggregate: never add them to bilateral rows.
{%- set source_models = ['int_trade_flows__comtrade', 'int_trade_flows__kcs', 'int_trade_flows__japan'] %}
with

flows as (

    {% for model in source_models -%}
    select * from {{ ref(model) }}
    {% if not loop.last %}union all by name
    {% endif %}
    {%- endfor %}

),

products as (

    select product_key, segment from {{ ref('dim_product') }}

),

final as (

    select
        {{ trade_flow_key('f.source', 'f.freq_code', 'f.period_key', 'f.reporter_code', 'f.partner_code', 'f.flow_code', 'f.hs_version', 'f.hs6') }} as trade_flow_key,
        f.source,
        f.origin,
        f.freq_code,
        f.period_key,
        f.ref_year,
        f.ref_month,
        f.reporter_code,
        f.partner_code,
        f.flow_code,
        f.hs_version,
        f.hs6,
        f.hs_version || '-' || f.hs6 as product_key,
        p.segment,
        f.value_usd,
        f.valuation,
        f.cif_value_usd,
        f.fob_value_usd,
        f.net_weight_kg,
        f.quantity,
        f.quantity_unit,
        f.is_quantity_estimated,
        f.is_net_weight_estimated,
        f.is_value_estimated,
        f.partner_code = 0 as is_world_partner,
        f.is_aggregate,
        f.origin = 'sample' as is_synthetic,
        f.source_file,
        f.vintage
    from flows as f
    left join products as p
        on p.product_key = f.hs_version || '-' || f.hs6

)

select * from final
