{#- The rows of a lake source whose landed file the quality gate did not block: the select of the
    first CTE of a staging model, `source as ({{ gated_source('kcs', 'trade') }})`. -#}
{% macro gated_source(source_name, dataset) -%}
    select * from {{ source(source_name, dataset) }}
    -- files the quality gate blocked are not published (docs/data-quality.md)
    where source_file not in ({{ gate_blocked_source_files(source_name, dataset) }})
{%- endmacro %}
