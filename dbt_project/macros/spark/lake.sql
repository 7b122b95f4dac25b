{#- The lake on Spark. DuckDB reads the Hive-partitioned Parquet lake through each source's
    external_location (read_parquet); Spark gets a table per source instead, registered at the start of
    every run (on-run-start) over the same folders: <home>/lake/<source>/<dataset>/, every Parquet file
    below it (recursiveFileLookup: the lake's own columns, no partition columns added from the folder
    names), schemas merged across vintages (mergeSchema, as union_by_name). Spark skips files whose name
    starts with a dot, so a dataset that holds only its zero-row schema file (.empty.parquet) is read
    from that file. Which datasets hold files, and which gate verdicts exist, come from the var
    `spark_lake` ({"with_files": [...], "gate_files": [...]}), written by semitrade
    (orchestration/dbt_target.py: dbt_vars); without it every dataset and verdict is assumed present. -#}

{% macro lake_root() %}
    {#- Where Spark reads the lake: $SEMITRADE_LAKE_URI (e.g. s3a://bucket/semitrade/lake, abfss://…: a copy of the lake where a cluster
        reads it) else $SEMITRADE_HOME/lake -#}
    {{ return(env_var('SEMITRADE_LAKE_URI', env_var('SEMITRADE_HOME', '../data') ~ '/lake')) }}
{% endmacro %}

{% macro spark_lake_state(kind, key) %}
    {#- whether the lake dataset (kind with_files) or gate verdict (kind gate_files) `key` exists -#}
    {%- set state = var('spark_lake', none) -%}
    {{ return(true if state is none else key in state.get(kind, [])) }}
{% endmacro %}

{% macro spark_quote_path(path) %}
    {{ return("'" ~ (path | replace("\\", "\\\\") | replace("'", "\\'")) ~ "'") }}
{% endmacro %}

{% macro register_lake_sources() %}
    {{ return(adapter.dispatch('register_lake_sources', 'semitrade')()) }}
{% endmacro %}

{% macro default__register_lake_sources() %}
    {#- DuckDB reads the lake through the sources' external_location: nothing to register -#}
    select 1
{% endmacro %}

{% macro spark__register_lake_sources() %}
    {%- if execute -%}
        {%- set datasets = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- do datasets.append((node.schema, node.identifier, node.source_name ~ '/' ~ node.name)) -%}
        {%- endfor -%}
        {%- do datasets.append(('semitrade_lake', 'quarantine', '_quarantine')) -%}
        {%- for schema, identifier, key in datasets -%}
            {%- set folder = semitrade.lake_root() ~ '/' ~ key -%}
            {%- set path = folder if semitrade.spark_lake_state('with_files', key) else folder ~ '/.empty.parquet' -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
            {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ identifier) -%}
            {%- if key != '_quarantine' or semitrade.spark_lake_state('with_files', key) -%}
                {%- do run_query('create table ' ~ schema ~ '.' ~ identifier ~ ' using parquet options (path '
                    ~ semitrade.spark_quote_path(path) ~ ", recursiveFileLookup 'true', mergeSchema 'true')") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set key = node.source_name ~ '/' ~ node.name -%}
            {%- do run_query('drop table if exists semitrade_lake.gate__' ~ node.source_name ~ '__' ~ node.name) -%}
            {%- if semitrade.spark_lake_state('gate_files', key) -%}
                {%- do run_query('create table semitrade_lake.gate__' ~ node.source_name ~ '__' ~ node.name
                    ~ ' using json options (path ' ~ semitrade.spark_quote_path(semitrade.lake_root() ~ '/_gate/' ~ key ~ '.json')
                    ~ ", multiLine 'true')") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}

{% macro lake_quarantine_relation() %}
    {#- the quarantine folder (every source's rejected rows), or none when it holds no file -#}
    {{ return(adapter.dispatch('lake_quarantine_relation', 'semitrade')()) }}
{% endmacro %}

{% macro default__lake_quarantine_relation() %}
    {#- DuckDB's glob() returns no row for a glob that matches nothing, where read_parquet would fail -#}
    {%- set quarantine_glob = env_var('SEMITRADE_HOME', '../data') ~ '/lake/_quarantine/**/*.parquet' -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ (quarantine_glob | replace("'", "''")) ~ "')") -%}
    {%- if found.columns[0].values()[0] == 0 -%}{{ return(none) }}{%- endif -%}
    {{ return("read_parquet('" ~ (quarantine_glob | replace("'", "''")) ~ "', union_by_name = true)") }}
{% endmacro %}

{% macro spark__lake_quarantine_relation() %}
    {{ return('semitrade_lake.quarantine' if semitrade.spark_lake_state('with_files', '_quarantine') else none) }}
{% endmacro %}

{% macro mart_view() %}
    {#- The materialization of the marts that are views on DuckDB (fct_trade_flows_hs2022,
        fct_trade_flows_preferred, fct_reconciled_flows): tables on Spark, so that every mart is a
        Parquet folder under spark-warehouse/ that DuckDB, Trino or Databricks can read (a Spark view is
        SQL in the metastore, readable by Spark only). -#}
    {{ return('view' if target.type == 'duckdb' else 'table') }}
{% endmacro %}
