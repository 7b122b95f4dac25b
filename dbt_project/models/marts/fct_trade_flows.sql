-- One row per source × frequency × reporter × partner × HS6 product (as reported) × period × flow,
-- the union of the int_trade_flows__* models (comtrade; national: Korea, Japan; same columns), joined to the
-- product dimension for the semiconductor segment and to the HS concordance for the canonical HS2022
-- code (the principal HS2022 successor of the reported code; when the code maps to several HS2022
-- codes, fct_trade_flows_hs2022 shares the value out with weights). World (partner 0) and aggregate rows are kept and flagged is_aggregate:
-- never add them to bilateral rows.
--
-- Incremental by Comtrade lake partition (frequency × year × reporter): a build over an existing
-- table re-derives, whole, only the partitions in which a lake file appeared or disappeared or the
-- quality gate's blocklist changed since the last build, and leaves the others alone; the national
-- sources (Korea, Japan: small) are re-derived whole every time (macros/replace_partitions.sql), unless
-- the build says none of their inputs changed ($SEMITRADE_FCT_NATIONAL 'keep', which a refresh sets when
-- no changed lake input feeds int_trade_flows__national: orchestration/refresh.py): their rows then stay.
-- An incremental DuckDB build reads those partitions' lake files by path, through the SQL of
-- stg_comtrade__records and int_trade_flows__comtrade (macros/comtrade_records.sql): through the views,
-- the filter on the partitions would not reach the lake (DuckDB would read it whole).
-- `dbt build --full-refresh` (or `semitrade run --full-refresh`) rebuilds everything, e.g. after a
-- parser change rewrote lake files in place; a build with var `as_of` is always a full rebuild.
-- On Spark the same, with the bookkeeping kept by semitrade (orchestration/spark_incremental.py: the
-- var spark_fct names the partitions to re-derive): a Parquet table partitioned by source × frequency ×
-- year × reporter, written with insert_overwrite after a pre-hook dropped the re-derived partitions.
-- (the incremental DuckDB read names no ref of int_trade_flows__comtrade: the graph keeps it)
-- depends_on: {{ ref('int_trade_flows__comtrade') }}
{{ config(
    materialized='incremental',
    incremental_strategy=('replace_partitions' if state_in_warehouse() else 'insert_overwrite'),
    partition_by=(none if state_in_warehouse() else ['source', 'freq_code', 'ref_year', 'reporter_code']),
    file_format=(none if state_in_warehouse() else 'parquet'),
    on_schema_change='fail',
    full_refresh=(true if var('as_of', none) else none),
    pre_hook=([] if state_in_warehouse() else ["{{ spark_fct_drop_partitions() }}"]),
    post_hook=("{{ fct_trade_flows_record_changes() }}" if state_in_warehouse() else []),
) }}
{%- set source_models = ['int_trade_flows__comtrade', 'int_trade_flows__national'] %}
{#- the shared shape of the int_trade_flows__* models, selected by name from each (a plain union all matches columns by position) #}
{%- set flow_columns = [
    'source', 'origin', 'freq_code', 'period_key', 'ref_year', 'ref_month', 'reporter_code', 'partner_code',
    'flow_code', 'hs_version', 'hs6', 'value_usd', 'valuation', 'cif_value_usd', 'fob_value_usd', 'net_weight_kg',
    'quantity', 'quantity_unit', 'is_quantity_estimated', 'is_net_weight_estimated', 'is_value_estimated',
    'is_aggregate', 'source_file', 'vintage',
] %}
{%- set comtrade_filter = 'true' %}
{%- set national_filter = 'true' %}
{%- set comtrade_relation = ref('int_trade_flows__comtrade') %}
{%- if execute and state_in_warehouse() %}
{%- set changed = fct_trade_flows_prepare_changes(is_incremental()) %}
{%- if is_incremental() %}
{%- set comtrade_filter = comtrade_partition_predicate(changed) %}
{%- set comtrade_relation = comtrade_partition_relation() or comtrade_relation %}
{%- if fct_keeps_national_rows() %}
{%- set national_filter = 'false' %}
{%- do log("fct_trade_flows: the national sources' rows stay (none of their inputs changed)", info=true) %}
{%- endif %}
{%- do log('fct_trade_flows: ' ~ (changed.rows | length) ~ ' Comtrade partition(s) to re-derive', info=true) %}
{%- endif %}
{%- elif execute and is_incremental() and var('spark_fct', none) is not none and not var('spark_fct').full %}
{%- set comtrade_filter = comtrade_partition_predicate({'rows': var('spark_fct').partitions}) %}
{%- do log('fct_trade_flows: ' ~ (var('spark_fct').partitions | length) ~ ' Comtrade partition(s) to re-derive', info=true) %}
{%- endif %}
with

flows as (

    {% for model in source_models -%}
    select {{ flow_columns | join(', ') }} from {{ comtrade_relation if model == 'int_trade_flows__comtrade' else ref(model) }}
    where {{ comtrade_filter if model == 'int_trade_flows__comtrade' else national_filter }}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

products as (

    select product_key, segment from {{ ref('dim_product') }}

),

hs2022 as (

    select
        hs_version,
        hs6,
        any_value(target_hs6) filter (where is_principal) as hs6_2022,
        count(target_hs6) as n_codes,
        any_value(relationship) as relationship,
        any_value(breaks) filter (where is_principal) as breaks
    from {{ ref('int_hs__code_map') }}
    where target_version = 'H6'
    group by 1, 2

),

eu as (

    select m49_code, eu_join_year, eu_exit_year from {{ ref('dim_country') }}

),

final as (

    select
        {{ trade_flow_key('f.source', 'f.freq_code', 'f.period_key', 'f.reporter_code', 'f.partner_code', 'f.flow_code', 'f.hs_version', 'f.hs6') }} as trade_flow_key,
        f.source,
        f.origin,
        f.freq_code,
        f.period_key,
        f.ref_year,
        f.ref_month,
        f.reporter_code,
        f.partner_code,
        f.flow_code,
        f.hs_version,
        f.hs6,
        f.hs_version || '-' || f.hs6 as product_key,
        p.segment,
        h.hs6_2022,
        case when h.hs6_2022 is not null then 'H6-' || h.hs6_2022 end as product_key_2022,
        coalesce(h.relationship, 'unmapped') as hs2022_relationship,
        coalesce(h.n_codes, 0) as hs2022_n_codes,
        h.breaks as hs2022_breaks,
        f.value_usd,
        f.valuation,
        f.cif_value_usd,
        f.fob_value_usd,
        f.net_weight_kg,
        f.quantity,
        f.quantity_unit,
        f.is_quantity_estimated,
        f.is_net_weight_estimated,
        f.is_value_estimated,
        f.partner_code = 0 as is_world_partner,
        f.is_aggregate,
        coalesce(f.ref_year >= e.eu_join_year and (e.eu_exit_year is null or f.ref_year < e.eu_exit_year), false)
            as is_partner_eu_member,
        f.origin = 'sample' as is_synthetic,
        f.source_file,
        f.vintage
    from flows as f
    left join products as p
        on p.product_key = f.hs_version || '-' || f.hs6
    left join hs2022 as h
        on h.hs_version = f.hs_version
        and h.hs6 = f.hs6
    left join eu as e
        on e.m49_code = f.partner_code

)

select * from final
