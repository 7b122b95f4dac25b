{% macro drop_renamed_relations() -%}
    {#- on-run-start: the SQL that drops the relations of models that were renamed (issue 15: intermediate
        models in domain folders named int_<domain>__<what>; Korea and Japan in one
        int_trade_flows__national; the mart quarantine → fct_quarantine), so that a warehouse built before
        the renames does not keep stale copies next to the new ones (the serving file publishes every
        relation of the build); and the incremental state of the renamed int_mirror_reports (its successor
        int_mirror__reports starts with a full build). Each relation is looked up and dropped as what it is
        (view or table); the hook runs the returned statements, each committed on its own. -#}
    {%- set statements = [] -%}
    {#- a Spark warehouse is younger than the renames: nothing to migrate there -#}
    {%- if execute and target.type == 'duckdb' -%}
    {%- set renamed = {
        'intermediate': [
            'int_fx__national_lines_usd', 'int_trade_flows__kcs', 'int_trade_flows__japan',
            'int_hs_concordance_steps', 'int_hs_paths', 'int_hs_code_map', 'int_hs_split_weights',
            'int_mirror_reports', 'int_mirror_cif_rates', 'int_mirror_reliability',
            'int_ind_flows', 'int_ind_export_control_imports',
        ],
        none: ['quarantine'],
    } -%}
    {%- for custom_schema, names in renamed.items() -%}
        {%- set schema = generate_schema_name(custom_schema, none) -%}
        {%- for name in names -%}
            {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=name) -%}
            {%- if relation is not none -%}
                {%- do log('dropping ' ~ relation ~ ': renamed (issue 15)', info=true) -%}
                {%- do statements.append('drop ' ~ relation.type ~ ' if exists ' ~ relation) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- the state schema is not among the project's (dbt has not cached it): no lookup, whose query would
        open a transaction the hook never commits; plain statements that hold on any warehouse -#}
    {%- set s = fct_state_schema() -%}
    {%- do statements.append('drop table if exists ' ~ s ~ '.int_mirror_reports__pending') -%}
    {%- do statements.append('create schema if not exists ' ~ s) -%}
    {%- do statements.append('create table if not exists ' ~ s ~ '.fct_consumers (model varchar, build_id integer)') -%}
    {%- do statements.append('delete from ' ~ s ~ ".fct_consumers where model = 'int_mirror_reports'") -%}
    {%- endif -%}
    {{ (statements | join(';\n')) if statements else 'select 1' }}
{%- endmacro %}
