-- One row per Comtrade trade flow code.
select
    flow_code,
    flow_desc,
    direction
from {{ ref('comtrade_flows') }}
