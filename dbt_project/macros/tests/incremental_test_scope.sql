{#- Generic tests (unique, not_null, accepted_values, relationships, unique_combination, …) on an
    incremental model check, in an incremental build, the rows that build re-derived: every other row
    is byte for byte the row an earlier build already tested (tests/dbt/test_incremental_fct.py proves
    incremental builds equal full rebuilds). Each scoped test names only row-local properties or keys
    that contain the partition columns (uniqueness cannot be broken across slices), so the scope loses
    no failure the build could have caused.
      fct_trade_flows     the Comtrade partitions (frequency × year × reporter) its last build
                          re-derived, and the national sources (re-derived every build);
      int_mirror__reports  the frequency × year slices of the reporters it took in.
    After a full build the scope is everything. `dbt test --vars '{full_tests: true}'` (or any run with
    that var) tests every row of every model. dbt calls this macro (it wraps the model of a generic
    test, applying the test's `where` config); the project's version takes precedence over dbt's. -#}

{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = semitrade.incremental_test_scope(relation) if execute else '' -%}
    {%- set conditions = [] -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if scope -%}{%- do conditions.append('(' ~ scope ~ ')') -%}{%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} as t where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro incremental_test_scope(relation) -%}
    {#- The predicate (alias t) of the rows the last build re-derived, or '' (every row). -#}
    {%- if var('full_tests', false) or not semitrade.state_in_warehouse()
          or relation is not string and relation.identifier is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set name = relation.identifier if relation is not string else '' -%}
    {%- set s = semitrade.fct_state_schema() -%}
    {%- set state = 'fct_trade_flows__last_build' if name == 'fct_trade_flows' else name ~ '__pending' -%}
    {%- if name not in ('fct_trade_flows', 'int_mirror__reports')
          or adapter.get_relation(database=relation.database, schema=s, identifier=state) is none -%}
        {{ return('') }}
    {%- endif -%}
    {#- literals rather than a join on the state table, so that DuckDB skips the row groups of
        the other partitions by their min/max -#}
    {%- set rows = run_query('select freq_code, ref_year, reporter_code, is_full from ' ~ s ~ '.' ~ state) -%}
    {%- if rows.rows | selectattr(3) | list | length > 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set changed = rows.rows | rejectattr(0, 'none') | list -%}
    {%- if name == 'fct_trade_flows' -%}
        {{ return("source <> 'comtrade' or " ~ semitrade.comtrade_partition_predicate({'rows': changed})) }}
    {%- else -%}
        {{ return(semitrade.party_slice_predicate({'rows': changed}, ['exporter_code', 'importer_code'])) }}
    {%- endif -%}
{{ return('') }}
{%- endmacro %}


{% macro fct_last_build_scope(fct_relation) -%}
    {#- For singular tests of fct_trade_flows: a predicate over freq_code, ref_year, reporter_code
        naming the Comtrade partitions its last build re-derived; 'true' after a full build, with var
        full_tests, or when the state is unknown. -#}
    {%- if not execute or var('full_tests', false) or not semitrade.state_in_warehouse() -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set s = semitrade.fct_state_schema() -%}
    {%- if adapter.get_relation(database=fct_relation.database, schema=s, identifier='fct_trade_flows__last_build') is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set rows = run_query('select freq_code, ref_year, reporter_code, is_full from ' ~ s ~ '.fct_trade_flows__last_build') -%}
    {%- if rows.rows | selectattr(3) | list | length > 0 -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return(semitrade.comtrade_partition_predicate({'rows': rows.rows | rejectattr(0, 'none') | list})) }}
{%- endmacro %}
