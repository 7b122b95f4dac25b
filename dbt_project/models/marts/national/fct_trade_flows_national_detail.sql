-- National customs detail: one row per source × month × partner × flow × national code (Korea HSK10,
-- Japan HS9), in US dollars with the exchange rate and its method next to the converted value.
with

lines as (

    select * from {{ ref('int_national__lines_usd') }}

),

products as (

    select product_key, segment from {{ ref('dim_product') }}

),

final as (

    select
        {{ trade_flow_key('l.source', 'l.period_key', 'l.reporter_code', 'l.partner_national_code', 'l.flow_code', 'l.national_code') }} as national_line_key,
        l.source,
        l.origin,
        l.period_key,
        l.ref_year,
        l.ref_month,
        l.reporter_code,
        l.partner_code,
        l.partner_national_code,
        l.flow_code,
        l.national_code,
        l.national_code_type,
        l.hs_version,
        l.hs6,
        l.hs_version || '-' || l.hs6 as product_key,
        p.segment,
        l.value_national,
        l.national_value_unit,
        l.fx_currency,
        l.fx_usd_per_unit,
        l.fx_rate_method,
        l.fx_rate_source,
        l.value_usd,
        case when l.flow_code = 'M' then 'CIF' else 'FOB' end as valuation,
        l.net_weight_kg,
        l.release,
        l.origin = 'sample' as is_synthetic,
        l.source_file,
        l.vintage
    from lines as l
    left join products as p on p.product_key = l.hs_version || '-' || l.hs6

)

select * from final
