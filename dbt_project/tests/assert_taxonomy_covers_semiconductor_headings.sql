-- Completeness: every code of heading 8486 (semiconductor manufacturing equipment) and every
-- integrated-circuit code 854231–854239 that exists in a version of the Comtrade code lists must be
-- in the taxonomy for that version.
select c.hs_version, c.hs6
from {{ ref('hs6_codes') }} as c
left join {{ ref('semiconductor_taxonomy') }} as t
    on t.hs_version = c.hs_version
    and t.hs6 = c.hs6
where (c.hs4 = '8486' or c.hs6 between '854231' and '854239')
  and t.hs6 is null
