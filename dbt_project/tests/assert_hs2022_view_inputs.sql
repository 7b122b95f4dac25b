-- What fct_trade_flows_hs2022 (a view) applies to each fact row, tested on the small tables it
-- reads instead of on the view (every test of a view recomputes it over the whole fact): the HS2022
-- weights are set, known in method and point to an HS2022 code of dim_product, and the weights of
-- each code sum to 1 (so every fact row keeps its value in the view, whichever partition it is in:
-- assert_hs_hs2022_mart_preserves_value can then check the partitions a build re-derived). Returns
-- offending rows.
with

weights as (

    select hs_version, hs6, target_hs6, weight, weight_method
    from {{ ref('int_hs__split_weights') }}
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
union all
select w.hs_version, w.hs6, null, sum(w.weight), null, 'the weights of the code sum to ' || sum(w.weight) || ', not 1'
from weights as w
where w.weight > 0
group by w.hs_version, w.hs6
having abs(sum(w.weight) - 1) > 1e-9
