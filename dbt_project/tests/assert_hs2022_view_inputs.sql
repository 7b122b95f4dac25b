-- What fct_trade_flows_hs2022 (a view) applies to each fact row, tested on the small tables it
-- reads instead of on the view (every test of a view recomputes it over the whole fact): the HS2022
-- weights are set, known in method and point to an HS2022 code of dim_product. Returns offending rows.
with

weights as (

    select hs_version, hs6, target_hs6, weight, weight_method
    from {{ ref('int_hs_split_weights') }}
    where target_version = 'H6'

)

select w.*, 'weight is null' as problem
from weights as w
where w.weight is null
union all
select w.*, 'unknown weight_method ' || coalesce(w.weight_method, 'null')
from weights as w
where w.weight_method is null or w.weight_method not in ('single', 'trade', 'equal')
union all
select w.*, 'target code not in dim_product'
from weights as w
anti join {{ ref('dim_product') }} as p
    on p.product_key = 'H6-' || w.target_hs6
where w.target_hs6 is not null
