{#- Aggregate: the distinct non-empty items of the comma-separated lists in csv_expr, sorted, joined with ','; null when there is none. -#}
{% macro merged_csv_lists(csv_expr) -%}
    {{ return(adapter.dispatch('merged_csv_lists', 'semitrade')(csv_expr)) }}
{%- endmacro %}

{% macro duckdb__merged_csv_lists(csv_expr) -%}
    nullif(array_to_string(list_sort(list_distinct(list_filter(flatten(list(string_split(coalesce({{ csv_expr }}, ''), ','))), lambda b: b <> ''))), ','), '')
{%- endmacro %}

{% macro spark__merged_csv_lists(csv_expr) -%}
    nullif(array_join(array_sort(array_distinct(filter(flatten(collect_list(split(coalesce({{ csv_expr }}, ''), ','))), b -> b <> ''))), ','), '')
{%- endmacro %}
