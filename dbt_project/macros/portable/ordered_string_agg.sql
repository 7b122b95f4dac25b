{#- Aggregate: the values of expr joined with sep in the order of order_by (one ascending expression, nulls last; distinct: each value once, order_by must then be expr); null when there is none. -#}
{% macro ordered_string_agg(expr, sep, order_by, distinct=false) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'semitrade')(expr, sep, order_by, distinct)) }}
{%- endmacro %}

{% macro duckdb__ordered_string_agg(expr, sep, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expr }}, {{ sep }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(expr, sep, order_by, distinct) -%}
    listagg({{ 'distinct ' if distinct }}{{ expr }}, {{ sep }}) within group (order by {{ order_by }} nulls last)
{%- endmacro %}
