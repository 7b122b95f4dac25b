-- No HS6 code may be mapped to two segments (across HS versions the same code keeps its segment).
select hs6, count(distinct segment) as n_segments
from {{ ref('semiconductor_taxonomy') }}
group by hs6
having count(distinct segment) > 1
