{#- Generic tests on the Comtrade lake source (source('comtrade', 'records'), the value tests of
    models/staging/comtrade/_comtrade__sources.yml) check, in an incremental DuckDB build, only the lake
    files that changed since fct_trade_flows' last build: the files not in
    semitrade_state.fct_trade_flows__lake_files (the comparison fct_trade_flows_prepare_changes makes,
    macros/replace_partitions.sql), and every file of a partition whose gate blocklist changed. Every
    other file holds the rows an earlier build already tested, as the fact itself assumes (a parser
    change that rewrites lake files in place needs --full-refresh, which tests every file). The source
    tests run before the fact in the same build, and a build whose test failed records no fact state,
    so a bad new file is tested again by every build until it is fixed or leaves the lake.
    The test reads read_parquet over those files alone (and the dataset's zero-row schema file, which
    gives the columns when no file changed), so DuckDB opens no other file: a filter on the source
    instead would still open every file of the lake, since union_by_name reads each file's schema when
    the query is bound (DuckDB 2.0.1, 1M-row lake of 322 files: a one-file filter on `filename` 0.12 s
    with union_by_name, 0.02 s without; the file's path alone 0.004 s).
    Every file is tested in a full build (--full-refresh, var as_of), the first build (no recorded
    state), with var full_tests, and on Spark (state_in_warehouse() false). Called by
    default__get_where_subquery (macros/tests/incremental_test_scope.sql) with the relation a generic
    test reads; returns it unchanged for any other relation. -#}

{% macro lake_test_relation(relation) -%}
    {%- if not execute or var('full_tests', false) or var('as_of', none) or flags.FULL_REFRESH
          or not semitrade.state_in_warehouse() -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if (semitrade.comtrade_lake_dir() ~ '/**/*.parquet') not in (relation | string) -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set files = semitrade.comtrade_lake_changed_files() -%}
    {%- if files is none -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set read = semitrade.comtrade_lake_read(files) -%}
    {%- if read is none -%}
        {#- no changed file and no schema file: the lake's columns, no row -#}
        {{ return('(select * from ' ~ relation ~ ' where false)') }}
    {%- endif -%}
    {{ return(read) }}
{%- endmacro %}


{% macro comtrade_lake_changed_files() -%}
    {#- The Comtrade lake files (absolute paths, sorted) that changed since fct_trade_flows' last build,
        or none when there is no recorded state (every file is then to be tested). -#}
    {%- set s = semitrade.fct_state_schema() -%}
    {%- for table in ['fct_trade_flows__lake_files', 'fct_trade_flows__blocked'] -%}
        {%- if adapter.get_relation(database=target.database, schema=s, identifier=table) is none -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set changes -%}
        with

        blocked_now as (select source_file from ({{ semitrade.gate_blocked_source_files('comtrade', 'records') }})),

        blocked_built as (select source_file from {{ s }}.fct_trade_flows__blocked)

        (select source_file from blocked_now except select source_file from blocked_built)
        union
        (select source_file from blocked_built except select source_file from blocked_now)
    {%- endset -%}
    {%- set blocklist_changes = run_query(changes).columns[0].values() | list -%}
    {%- set listing -%}
        with

        lake_files as ({{ semitrade.comtrade_lake_files_sql() }}),

        built as (select {{ semitrade.comtrade_lake_file_key('file') }} as file from {{ s }}.fct_trade_flows__lake_files)

        select path from lake_files anti join built using (file)
        {%- if blocklist_changes %}
        union
        -- the partitions holding a landed file whose verdict changed (read from the lake only then)
        select path from lake_files
        where (freq_code, ref_year, reporter_code) in (
            select freq_code, ref_year, reporter_code from {{ source('comtrade', 'records') }}
            where source_file in (select source_file from ({{ changes }}))
        )
        {%- endif %}
        order by 1
    {%- endset -%}
    {{ return(run_query(listing).columns[0].values() | list) }}
{%- endmacro %}
