-- The computed columns of fct_reconciled_flows (a view), in one pass over it: every row has a CIF
-- rate, weights and a reconciled value; methods are known ones; product_key joins dim_product.
-- (Its key and shared columns are tested on int_mirror__reports, which it is row for row: each test
-- of a view recomputes it, so one test rather than one per column.) Returns the offending rows.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_reconciled_flows'}}}) }}
with

checked as (

    select
        r.reconciled_flow_key,
        case
            when r.cif_rate is null then 'cif_rate is null'
            when r.cif_rate_method is null or r.cif_rate_method not in (
                'pair_annual_median', 'pair_monthly_median', 'group_annual_median', 'group_monthly_median', 'default'
            ) then 'unknown cif_rate_method ' || coalesce(r.cif_rate_method, 'null')
            when r.exporter_weight is null or r.importer_weight is null then 'a weight is null'
            when r.weight_method is null or r.weight_method not in (
                'country_reliability', 'year_median_fallback', 'equal_weights_fallback', 'single_report'
            ) then 'unknown weight_method ' || coalesce(r.weight_method, 'null')
            when r.reconciled_value_usd is null then 'reconciled_value_usd is null'
            when r.product_key is not null and p.product_key is null
                then 'product_key ' || r.product_key || ' not in dim_product'
        end as problem
    from {{ ref('fct_reconciled_flows') }} as r
    left join {{ ref('dim_product') }} as p
        on p.product_key = r.product_key

)

select reconciled_flow_key, problem
from checked
where problem is not null
