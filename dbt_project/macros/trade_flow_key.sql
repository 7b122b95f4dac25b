{% macro trade_flow_key() -%}
    {#- A stable surrogate key: md5 of the grain columns joined with '|' (nulls as empty). -#}
    md5(concat_ws('|', {% for col in varargs %}coalesce(cast({{ col }} as string), ''){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
