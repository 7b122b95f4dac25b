{#- Aggregate: the product of the non-null values of expr (DOUBLE) multiplied in the order of order_by (ascending, nulls last), so the same bits whatever the row order; null when there is none. -#}
{% macro ordered_product(expr, order_by) -%}
    {{ return(adapter.dispatch('ordered_product', 'semitrade')(expr, order_by)) }}
{%- endmacro %}

{% macro duckdb__ordered_product(expr, order_by) -%}
    {#- the filter drops null values before the per-group sort, which is what an ordered aggregate costs -#}
    product({{ expr }} order by {{ order_by }}) filter (where ({{ expr }}) is not null)
{%- endmacro %}

{% macro spark__ordered_product(expr, order_by) -%}
    aggregate(
        array_sort(collect_list(case when ({{ expr }}) is not null then struct(({{ order_by }}) is null as n, {{ order_by }} as k, cast({{ expr }} as double) as v) end)),
        cast(null as double),
        (acc, x) -> coalesce(acc, cast(1 as double)) * x.v
    )
{%- endmacro %}
