{#- Aggregate: the distinct non-null values of expr, sorted, joined with ',' ('' when there is none). -#}
{% macro sorted_distinct_csv(expr) -%}
    {{ return(adapter.dispatch('sorted_distinct_csv', 'semitrade')(expr)) }}
{%- endmacro %}

{% macro duckdb__sorted_distinct_csv(expr) -%}
    array_to_string(list_sort(list_distinct(list({{ expr }}))), ',')
{%- endmacro %}

{% macro spark__sorted_distinct_csv(expr) -%}
    array_join(array_sort(collect_set({{ expr }})), ',')
{%- endmacro %}
