-- One row per HS6 product under Japan's July 2019 export controls × month × partner: Korea's
-- imports as Korea reported them (CIF, US dollars), World (partner 0) included as the total.
-- Products and the corridor come from the `ind_export_control_products()` and `ind_corridor()` macros.
{%- set corridor = ind_corridor() %}
{%- set products = ind_export_control_products() %}
with

imports as (

    select
        f.hs6,
        f.period_key,
        f.partner_code,
        f.is_aggregate,
        f.value_usd,
        f.origin
    from {{ ref('fct_trade_flows') }} as f
    where f.source = 'comtrade'
      and f.freq_code = 'M'
      and f.flow_code = 'M'
      and f.reporter_code = {{ corridor.home }}
      and f.hs6 in ({% for code in products %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %})
      and (f.partner_code = 0 or not f.is_aggregate)

),

final as (

    select
        i.hs6,
        case i.hs6
            {%- for code, label in products.items() %}
            when '{{ code }}' then '{{ label }}'
            {%- endfor %}
        end as product_name,
        i.period_key,
        p.year as ref_year,
        p.month as ref_month,
        p.period_start,
        p.is_after_2019_export_control,
        case
            when not p.is_2019_export_control_window then null
            when p.is_after_2019_export_control then 'after'
            else 'before'
        end as control_window,
        i.partner_code,
        i.partner_code = {{ corridor.partner }} as is_japan,
        i.partner_code = 0 as is_world,
        {{ sum_exact('i.value_usd') }} as imports_usd,
        max(i.origin) as origin
    from imports as i
    join {{ ref('dim_period') }} as p
        on p.period_key = i.period_key
    group by all

)

select * from final
