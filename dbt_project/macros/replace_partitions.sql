{#- Incremental builds of fct_trade_flows by Comtrade lake partition (frequency × year × reporter).

    State, in schema semitrade_state of the build warehouse (written in the same transaction as the
    fact, so the two cannot disagree):
      fct_trade_flows__lake_files  the lake files (path relative to lake/comtrade/records, and
                                   partition) the fact was last built from;
      fct_trade_flows__blocked     the landed files the quality gate blocked at that build;
      fct_trade_flows__pending     the changes found when the model was compiled (this build);
      fct_trade_flows__changes     the log of the partitions each build re-derived (build_id, or
                                   is_full for a full build), read by the incremental models
                                   downstream (macros/replace_slices.sql) to know what moved;
      fct_trade_flows__last_build  the partitions the last build re-derived (or is_full): the rows
                                   its generic tests check (macros/tests/incremental_test_scope.sql).
    A partition is re-derived whole when a lake file appeared in it or disappeared from it, or when
    the gate's blocklist changed for one of its files; every other partition is left alone. The
    national sources (Korea, Japan: small) are re-derived whole on every build.
    A full build (first build, --full-refresh, or var as_of) re-derives everything; with as_of the
    recorded state is emptied, so that the next ordinary build re-derives every partition. -#}

{% macro fct_state_schema() -%}semitrade_state{%- endmacro %}

{% macro state_in_warehouse() -%}
    {#- Whether the incremental bookkeeping of fct_trade_flows and int_mirror__reports lives in the
        warehouse, in this file and macros/replace_slices.sql (DuckDB). On Spark, semitrade keeps it
        outside (orchestration/spark_incremental.py) and passes the partitions to re-derive as the var
        spark_fct; int_mirror__reports is then a table rebuilt whole. -#}
    {{ return(target.type == 'duckdb') }}
{%- endmacro %}


{% macro comtrade_lake_file_key(file) -%}
    {#- A Comtrade lake file's path relative to the dataset's folder (freq=…/year=…/reporter=…/vintage=….parquet):
        the key the recorded state compares, so that a home moved or copied elsewhere (a backup restored, a
        benchmark's copy) does not make every partition look new. Idempotent (a relative path stays as it is). -#}
    regexp_replace({{ file }}, '^.*/lake/comtrade/records/', '')
{%- endmacro %}


{% macro comtrade_lake_files_sql() -%}
    {#- Every Comtrade lake file (file: path relative to the dataset's folder; path: the path to read it
        by) with its partition, from the file names alone (no file is opened). -#}
    select
        {{ comtrade_lake_file_key('file') }} as file,
        '{{ comtrade_lake_dir() | replace("'", "''") }}/' || {{ comtrade_lake_file_key('file') }} as path,
        regexp_extract(file, '/freq=([^/]+)/', 1) as freq_code,
        cast(regexp_extract(file, '/year=([0-9]+)/', 1) as integer) as ref_year,
        cast(regexp_extract(file, '/reporter=([0-9]+)/', 1) as integer) as reporter_code
    from glob('{{ comtrade_lake_dir() }}/**/*.parquet')
    -- the zero-row schema file of an empty dataset (ingest/lake.py) belongs to no partition
    where not file like '%/.empty.parquet'
{%- endmacro %}


{% macro comtrade_lake_dir() -%}
    {#- The Comtrade records dataset's folder in the lake (the source reads its glob, _comtrade__sources.yml). -#}
    {{ return(env_var('SEMITRADE_HOME', '../data') ~ '/lake/comtrade/records') }}
{%- endmacro %}


{% macro comtrade_lake_read(paths) -%}
    {#- read_parquet over the Comtrade lake files ``paths`` (as comtrade_lake_files_sql's path) and the
        dataset's zero-row schema file, with union_by_name as the source reads the whole lake: the same
        columns and types (the schema file gives them even when ``paths`` is empty), and DuckDB opens no
        other file (union_by_name over the source's glob reads every file's schema when the query is
        bound). none when there is neither a path nor a schema file. -#}
    {%- set lake = comtrade_lake_dir() | replace("'", "''") -%}
    {%- set empty = run_query("select file from glob('" ~ lake ~ "/.empty.parquet')") -%}
    {%- set quoted = [] -%}
    {%- for p in empty.columns[0].values() | list + paths -%}{%- do quoted.append("'" ~ (p | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {%- if quoted | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('read_parquet([' ~ quoted | join(', ') ~ '], union_by_name = true)') }}
{%- endmacro %}


{% macro comtrade_partition_paths(partitions_sql) -%}
    {#- The paths of every current lake file of the partitions ``partitions_sql`` selects (a query of
        freq_code, ref_year, reporter_code), sorted, from the file names alone. -#}
    {%- set files -%}
        select l.path
        from ({{ comtrade_lake_files_sql() }}) as l
        where (l.freq_code, l.ref_year, l.reporter_code) in ({{ partitions_sql }})
        order by 1
    {%- endset -%}
    {{ return(run_query(files).columns[0].values() | list) }}
{%- endmacro %}


{% macro comtrade_partition_relation() -%}
    {#- In an incremental DuckDB build of fct_trade_flows (after fct_trade_flows_prepare_changes): the
        rows of int_trade_flows__comtrade for the partitions the build re-derives, by the models' own SQL
        (macros/comtrade_records.sql) over every current lake file of those partitions, read by path (the
        latest-vintage rule works within a partition; a partition left with no file yields no row).
        none when the lake holds neither such a file nor a schema file: read the view then. -#}
    {%- set read = comtrade_lake_read(comtrade_partition_paths(
        'select freq_code, ref_year, reporter_code from ' ~ fct_state_schema() ~ '.fct_trade_flows__pending '
        ~ "where change in ('new', 'removed', 'blocklist')")) -%}
    {%- if read is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('(' ~ int_trade_flows_comtrade_sql('(' ~ stg_comtrade_records_sql(read) ~ ')') ~ ')') }}
{%- endmacro %}


{% macro fct_trade_flows_prepare_changes(incremental) -%}
    {#- Run when fct_trade_flows is compiled: writes fct_trade_flows__pending and returns the
        partitions to re-derive (an agate table of freq_code, ref_year, reporter_code). -#}
    {%- set s = fct_state_schema() -%}
    {%- do run_query('create schema if not exists ' ~ s) -%}
    {%- do run_query('create table if not exists ' ~ s ~ '.fct_trade_flows__lake_files (file varchar, freq_code varchar, ref_year integer, reporter_code integer)') -%}
    {%- do run_query('create table if not exists ' ~ s ~ '.fct_trade_flows__blocked (source_file varchar)') -%}
    {%- do run_query('create table if not exists ' ~ s ~ '.fct_trade_flows__changes (build_id integer, freq_code varchar, ref_year integer, reporter_code integer, is_full boolean)') -%}
    {%- set pending -%}
    create or replace table {{ s }}.fct_trade_flows__pending as
    with

    lake_files as ({{ comtrade_lake_files_sql() }}),

    blocked_now as (select source_file from ({{ gate_blocked_source_files('comtrade', 'records') }})),

    {% if incremental -%}
    -- (a warehouse built before the state kept relative paths holds absolute ones)
    built as (
        select {{ comtrade_lake_file_key('file') }} as file, freq_code, ref_year, reporter_code
        from {{ s }}.fct_trade_flows__lake_files
    ),

    blocked_built as (select source_file from {{ s }}.fct_trade_flows__blocked),

    blocklist_changes as (
        (select source_file from blocked_now except select source_file from blocked_built)
        union
        (select source_file from blocked_built except select source_file from blocked_now)
    ),

    changes as (
        select 'new' as change, l.file, l.freq_code, l.ref_year, l.reporter_code
        from lake_files as l anti join built as b using (file)
        union all
        select 'removed', b.file, b.freq_code, b.ref_year, b.reporter_code
        from built as b anti join lake_files as l using (file)
        union all
        select distinct 'blocklist', null, freq_code, ref_year, reporter_code
        from {{ source('comtrade', 'records') }}
        where source_file in (select source_file from blocklist_changes)
    )
    {%- else -%}
    changes as (
        select 'reset' as change, null as file, null as freq_code, null as ref_year, null as reporter_code
        {% if not var('as_of', none) -%}
        union all
        select 'new', file, freq_code, ref_year, reporter_code from lake_files
        {%- endif %}
    )
    {%- endif %}

    select change, file, freq_code, ref_year, reporter_code, null as source_file from changes
    union all
    select 'blocked_now', null, null, null, null, source_file from blocked_now
    {%- endset -%}
    {%- do run_query(pending) -%}
    {{ return(run_query(
        'select distinct freq_code, ref_year, reporter_code from ' ~ s ~ '.fct_trade_flows__pending '
        ~ "where change in ('new', 'removed', 'blocklist') order by 1, 2, 3"
    )) }}
{%- endmacro %}


{% macro fct_keeps_national_rows() -%}
    {#- Whether this incremental DuckDB build of fct_trade_flows leaves the national sources' rows as
        they are: $SEMITRADE_FCT_NATIONAL 'keep' (set by a refresh whose changed lake inputs feed no
        national row, orchestration/refresh.py) rather than 'rederive' (the default: every build
        re-derives them). An environment variable read when the model runs, not a --vars value: dbt
        parses the whole project again whenever --vars differ from the last parse (5-10 s). -#}
    {%- set mode = env_var('SEMITRADE_FCT_NATIONAL', 'rederive') -%}
    {%- if mode not in ('keep', 'rederive') -%}
        {{ exceptions.raise_compiler_error("SEMITRADE_FCT_NATIONAL must be 'keep' or 'rederive', not '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode == 'keep' and state_in_warehouse()) }}
{%- endmacro %}


{% macro comtrade_partition_predicate(partitions) -%}
    {#- A literal filter on (freq_code, ref_year, reporter_code) from the partitions to re-derive:
        literals, so that DuckDB prunes the lake files of the other partitions instead of reading
        them. `false` when there is nothing to re-derive. -#}
    {%- if partitions.rows | length == 0 -%}
        false
    {%- else -%}
        ({% for r in partitions.rows %}(freq_code = '{{ r[0] }}' and ref_year = {{ r[1] | int }} and reporter_code = {{ r[2] | int }}){% if not loop.last %} or {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}


{% macro fct_trade_flows_record_changes() -%}
    {#- Post-hook of fct_trade_flows, in the transaction that wrote the fact: the pending changes
        become the recorded state. -#}
    {%- set s = fct_state_schema() -%}
    insert into {{ s }}.fct_trade_flows__changes
    with next_build as (select coalesce(max(build_id), 0) + 1 as build_id from {{ s }}.fct_trade_flows__changes)
    select n.build_id, null, null, null, true
    from next_build as n
    where exists (select 1 from {{ s }}.fct_trade_flows__pending where change = 'reset')
    union all
    select distinct n.build_id, p.freq_code, p.ref_year, p.reporter_code, false
    from next_build as n, {{ s }}.fct_trade_flows__pending as p
    where p.change in ('new', 'removed', 'blocklist')
      and not exists (select 1 from {{ s }}.fct_trade_flows__pending where change = 'reset');
    create or replace table {{ s }}.fct_trade_flows__last_build as
    select null::varchar as freq_code, null::integer as ref_year, null::integer as reporter_code, true as is_full
    where exists (select 1 from {{ s }}.fct_trade_flows__pending where change = 'reset')
    union all
    select distinct freq_code, ref_year, reporter_code, false
    from {{ s }}.fct_trade_flows__pending
    where change in ('new', 'removed', 'blocklist')
      and not exists (select 1 from {{ s }}.fct_trade_flows__pending where change = 'reset');
    delete from {{ s }}.fct_trade_flows__lake_files
    where exists (select 1 from {{ s }}.fct_trade_flows__pending where change = 'reset');
    update {{ s }}.fct_trade_flows__lake_files set file = {{ comtrade_lake_file_key('file') }}
    where file <> {{ comtrade_lake_file_key('file') }};
    delete from {{ s }}.fct_trade_flows__lake_files
    where file in (select file from {{ s }}.fct_trade_flows__pending where change = 'removed');
    insert into {{ s }}.fct_trade_flows__lake_files
    select file, freq_code, ref_year, reporter_code from {{ s }}.fct_trade_flows__pending where change = 'new';
    delete from {{ s }}.fct_trade_flows__blocked;
    insert into {{ s }}.fct_trade_flows__blocked
    select source_file from {{ s }}.fct_trade_flows__pending where change = 'blocked_now';
    delete from {{ s }}.fct_trade_flows__pending
{%- endmacro %}


{% macro get_incremental_replace_partitions_sql(arg_dict) -%}
    {#- Incremental strategy 'replace_partitions' (fct_trade_flows): the new rows (temp relation) hold
        every row of the partitions being re-derived, so each of those partitions is deleted whole
        from the target and the new rows inserted — a record whose file left the lake or was blocked
        disappears (a merge on the row key would keep it), and a partition left with no row is
        emptied. (A record a later vintage merely omits keeps its earlier vintage: staging picks the
        latest vintage per record, as a full build does.) The national sources' rows are re-derived whole on
        every build, unless it keeps them (fct_keeps_national_rows: then the temp relation holds none). -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set s = fct_state_schema() -%}
    {%- set cols = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as t
    where {% if not fct_keeps_national_rows() %}t.source <> 'comtrade' or {% endif %}exists (
            select 1 from {{ s }}.fct_trade_flows__pending as p
            where p.change in ('new', 'removed', 'blocklist')
              and p.freq_code = t.freq_code
              and p.ref_year = t.ref_year
              and p.reporter_code = t.reporter_code
        );
    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ temp }}
{%- endmacro %}


{% macro spark_fct_drop_partitions() -%}
    {#- Pre-hook of fct_trade_flows on Spark, in an incremental build: drop the partitions the build
        re-derives (the changed Comtrade partitions of var spark_fct, and every national partition:
        the national sources are re-derived whole), so that one whose lake files all left ends up
        empty; insert_overwrite then writes the re-derived rows. -#}
    {%- set plan = var('spark_fct', none) -%}
    {%- set specs = [] -%}
    {%- if execute and is_incremental() and plan is not none and not plan.full -%}
        {%- for r in plan.partitions -%}
            {%- do specs.append("partition (source = 'comtrade', freq_code = '" ~ r[0] ~ "', ref_year = "
                ~ (r[1] | int) ~ ", reporter_code = " ~ (r[2] | int) ~ ")") -%}
        {%- endfor -%}
        {%- set national = [] -%}
        {%- for row in run_query('show partitions ' ~ this) -%}
            {%- set source = row[0].split('/')[0].split('=', 1)[1] -%}
            {%- if source != 'comtrade' and source not in national -%}{%- do national.append(source) -%}{%- endif -%}
        {%- endfor -%}
        {%- for source in national -%}
            {%- do specs.append("partition (source = '" ~ source ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if specs -%}
    alter table {{ this }} drop if exists {{ specs | join(', ') }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
