{#- Incremental builds downstream of fct_trade_flows (int_mirror__reports).

    fct_trade_flows logs, per build, the Comtrade partitions (frequency × year × reporter) it
    re-derived, or is_full for a full build (semitrade_state.fct_trade_flows__changes, written by
    its post-hook). Each downstream incremental model records the last build_id of that log it has
    taken in (semitrade_state.fct_consumers), so that a model that was not built after some fact
    builds (a failed run, a `--select`) still catches up with every change since.

    When such a model compiles, fct_changes_prepare(model) writes semitrade_state.<model>__pending:
    the partitions changed since its last build, or one is_full row (first build, a full build of
    the fact since, or no record of the model: e.g. a warehouse built before this log existed). The
    model selects only the rows those partitions can change, strategy 'replace_where' deletes the
    rows its `replace_where` config names (a predicate over the target, alias t, usually reading the
    pending table) and inserts the new ones, and the post-hook fct_changes_consumed(model) records
    the build_id taken in — in the same transaction as the table, so the two cannot disagree.
    A change of code, seeds or vars that alters rows without a lake change needs `--full-refresh`.

    Not fct_reconciled_flows: every row of it reads the CIF rates and reporter reliabilities, which
    are medians and means over all pairs of a product group and all partners of a year; measured on
    the 10M-row benchmark, one revised reporter-year moved 31 % of the CIF rates and 39 % of the
    reliabilities, so 99 % of the rows had to be re-derived, and deleting and re-inserting them took
    longer (19.8 s) than rebuilding the table (11–14 s). It is a view instead. -#}

{% macro fct_changes_prepare(model_name, incremental) -%}
    {#- Writes semitrade_state.<model>__pending and returns {'full': bool, 'partitions': agate table
        of freq_code, ref_year, reporter_code} (empty when full). -#}
    {%- set s = fct_state_schema() -%}
    {%- do run_query('create schema if not exists ' ~ s) -%}
    {%- do run_query('create table if not exists ' ~ s ~ '.fct_trade_flows__changes (build_id integer, freq_code varchar, ref_year integer, reporter_code integer, is_full boolean)') -%}
    {%- do run_query('create table if not exists ' ~ s ~ '.fct_consumers (model varchar, build_id integer)') -%}
    {%- set pending -%}
    create or replace table {{ s }}.{{ model_name }}__pending as
    with

    upto as (select coalesce(max(build_id), 0) as build_id from {{ s }}.fct_trade_flows__changes),

    consumed as (select max(build_id) as build_id from {{ s }}.fct_consumers where model = '{{ model_name }}'),

    since as (
        select c.freq_code, c.ref_year, c.reporter_code, c.is_full
        from {{ s }}.fct_trade_flows__changes as c, consumed, upto
        where c.build_id > consumed.build_id and c.build_id <= upto.build_id
    ),

    is_full as (
        select {{ 'false' if incremental else 'true' }}
            or (select build_id from consumed) is null
            or exists (select 1 from since where is_full) as is_full
    )

    select null::varchar as freq_code, null::integer as ref_year, null::integer as reporter_code,
        true as is_full, (select build_id from upto) as upto
    from is_full where is_full
    union all
    select distinct s.freq_code, s.ref_year, s.reporter_code, false, (select build_id from upto)
    from since as s, is_full as f
    where not f.is_full and not s.is_full
    union all
    -- nothing to re-derive: one row all the same, to carry `upto`
    select null, null, null, false, (select build_id from upto)
    from is_full as f
    where not f.is_full and not exists (select 1 from since)
    {%- endset -%}
    {%- do run_query(pending) -%}
    {%- set full = run_query('select bool_or(is_full) from ' ~ s ~ '.' ~ model_name ~ '__pending').columns[0].values()[0] -%}
    {%- set parts = run_query(
        'select distinct freq_code, ref_year, reporter_code from ' ~ s ~ '.' ~ model_name ~ '__pending '
        ~ 'where not is_full and freq_code is not null order by 1, 2, 3'
    ) -%}
    {{ return({'full': full, 'partitions': parts}) }}
{%- endmacro %}


{% macro fct_changes_consumed(model_name) -%}
    {#- Post-hook: the model has taken in the fact's changes up to the build_id its pending table carries. -#}
    {%- set s = fct_state_schema() -%}
    delete from {{ s }}.fct_consumers where model = '{{ model_name }}';
    insert into {{ s }}.fct_consumers select '{{ model_name }}', max(upto) from {{ s }}.{{ model_name }}__pending
{%- endmacro %}


{% macro party_slice_predicate(partitions, party_columns) -%}
    {#- Literal filter: rows of a changed (freq_code, ref_year) where one of party_columns is a
        reporter whose partition changed (every row of those years when party_columns is empty).
        `false` when there is none. -#}
    {%- set by_year = {} -%}
    {%- for r in partitions.rows -%}
        {%- set k = r[0] ~ '|' ~ (r[1] | int) -%}
        {%- do by_year.setdefault(k, []).append(r[2] | int) -%}
    {%- endfor -%}
    {%- if by_year | length == 0 -%}
        false
    {%- else -%}
        ({% for k, reporters in by_year | dictsort %}{% set fy = k.split('|') %}(freq_code = '{{ fy[0] }}' and ref_year = {{ fy[1] }}{% if party_columns %} and ({% for c in party_columns %}{{ c }} in ({{ reporters | join(', ') }}){% if not loop.last %} or {% endif %}{% endfor %}){% endif %}){% if not loop.last %} or {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}


{% macro party_slice_exists(pending, alias, party_columns) -%}
    {#- The same slice as party_slice_predicate, read from a pending table at run time (for deletes). -#}
    exists (
        select 1 from {{ pending }} as pending_change
        where pending_change.is_full
           or (pending_change.freq_code = {{ alias }}.freq_code and pending_change.ref_year = {{ alias }}.ref_year
               and pending_change.reporter_code in ({% for c in party_columns %}{{ alias }}.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}))
    )
{%- endmacro %}


{% macro get_incremental_replace_where_sql(arg_dict) -%}
    {#- Incremental strategy 'replace_where': delete the target rows the model's `replace_where`
        config selects (alias t), insert the new rows. The model must select every row of that
        slice as it is now, so that rows which no longer exist go away. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set predicate = config.get('replace_where') -%}
    {%- if not predicate -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'replace_where' needs a replace_where config (a predicate over the target, alias t)") }}
    {%- endif -%}
    {%- set cols = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as t where {{ predicate }};
    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ temp }}
{%- endmacro %}

