{#- Seeds on Spark: dbt-spark's own seed INSERTs rows through bound literals, which breaks on an
    apostrophe (Spark escapes quotes with a backslash, dbt doubles them: dbt-core #6471), writes empty
    cells as cast('None' as …), rejects `varchar` without a length and took 30 s for the 43k-row
    concordance. Here Spark's CSV reader loads the file itself and one CTAS types every column as dbt
    would (column_types, else dbt's inferred type), into a Parquet table. DuckDB keeps dbt's own path. -#}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set csv_path = model['root_path'] ~ '/' ~ model['original_file_path'] -%}
    {%- set view = 'semitrade_seed_csv__' ~ model['alias'] -%}
    {%- call statement('_') -%}
        create or replace temporary view {{ view }}
        using csv options (
            path '{{ csv_path | replace("'", "\\'") }}', header 'true', multiLine 'true',
            quote '"', escape '"', inferSchema 'false', mode 'FAILFAST', encoding 'UTF-8'
        )
    {%- endcall -%}
    {%- set sql -%}
        create table {{ this.render() }}
        using parquet
        {{ comment_clause() }}
        as select
        {%- for col_name in agate_table.column_names %}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
            {%- set type = semitrade.spark_type(column_override.get(col_name, inferred_type)) %}
            cast(`{{ col_name }}` as {{ type }}) as `{{ col_name }}`{{ "," if not loop.last }}
        {%- endfor %}
        from {{ view }}
    {%- endset -%}
    {%- call statement('_') -%}{{ sql }}{%- endcall -%}
    {%- call statement('_') -%}drop view if exists {{ view }}{%- endcall -%}
    {{ return(sql) }}
{% endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {#- the rows were loaded with the table (spark__create_csv_table) -#}
    {{ return('-- loaded by spark__create_csv_table (Spark CSV reader)') }}
{% endmacro %}

{% macro spark_type(type_name) %}
    {#- a seed column type as Spark spells it: `varchar` (DuckDB's) has no length on Spark -#}
    {%- set t = (type_name | string | lower | trim) -%}
    {{ return('string' if t in ('varchar', 'text') else type_name) }}
{% endmacro %}
