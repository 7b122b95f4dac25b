-- Every taxonomy row must name a code that exists in the HS version it claims (Comtrade code lists).
select t.hs_version, t.hs6
from {{ ref('semiconductor_taxonomy') }} as t
left join {{ ref('hs6_codes') }} as c
    on c.hs_version = t.hs_version and c.hs6 = t.hs6
where c.hs6 is null
