{% macro gate_blocked_source_files(source_name, dataset) -%}
    {#- The landed files whose lake files the quality gate blocked (ingest/quality/gate.py writes
        lake/_gate/<source>/<dataset>.json); before the first gate run nothing is excluded.
        Use as: source_file not in (...). -#}
    {{ return(adapter.dispatch('gate_blocked_source_files', 'semitrade')(source_name, dataset)) }}
{%- endmacro %}

{% macro default__gate_blocked_source_files(source_name, dataset) -%}
    {#- DuckDB: read_text returns no row when the file does not exist -#}
    select unnest(cast(json_extract(content, '$.blocked_source_files') as varchar[])) as source_file
    from read_text('{{ env_var('SEMITRADE_HOME', '../data') }}/lake/_gate/{{ source_name }}/{{ dataset }}.json')
{%- endmacro %}

{% macro spark__gate_blocked_source_files(source_name, dataset) -%}
    {#- Spark: the verdict registered as a JSON table at the start of the run (macros/spark/lake.sql) -#}
    {%- if semitrade.spark_lake_state('gate_files', source_name ~ '/' ~ dataset) -%}
    select explode(blocked_source_files) as source_file from semitrade_lake.gate__{{ source_name }}__{{ dataset }}
    {%- else -%}
    select cast(null as string) as source_file where false
    {%- endif -%}
{%- endmacro %}
