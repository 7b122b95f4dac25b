-- The weights of one reported code over its target codes must sum to 1 (value is neither lost nor
-- created when re-expressing flows in HS2022 or HS2007 codes).
select target_version, hs_version, hs6, {{ sum_exact('weight', 20) }} as total_weight
from {{ ref('int_hs__split_weights') }}
group by 1, 2, 3
having abs({{ sum_exact('weight', 20) }} - 1.0) > 1e-9
