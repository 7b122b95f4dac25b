{% macro gate_blocked_source_files(source_name, dataset) -%}
    {#- The landed files whose lake files the quality gate blocked (ingest/quality/gate.py writes
        lake/_gate/<source>/<dataset>.json). read_text returns no row when the file does not exist,
        so before the first gate run nothing is excluded. Use as: source_file not in (...). -#}
    select unnest(cast(json_extract(content, '$.blocked_source_files') as varchar[])) as source_file
    from read_text('{{ env_var('SEMITRADE_HOME', '../data') }}/lake/_gate/{{ source_name }}/{{ dataset }}.json')
{%- endmacro %}
