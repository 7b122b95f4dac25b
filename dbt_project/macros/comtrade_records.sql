{#- The SQL of the Comtrade path into fct_trade_flows, one definition for its two readers: the models
    stg_comtrade__records and int_trade_flows__comtrade are these macros over source()/ref(), and an
    incremental DuckDB build of fct_trade_flows applies the same two over the lake files of the
    partitions it re-derives, read by path (comtrade_partition_relation, macros/replace_partitions.sql):
    through the views, a filter on the partition never reaches the lake (the staging CTE `source` has two
    readers, so DuckDB reads the whole lake once; union_by_name opens every file when the query is bound). -#}

{% macro stg_comtrade_records_sql(records) -%}
{#- The latest published vintage of every Comtrade record in ``records`` (rows of the lake's schema),
    or the one current on var('as_of'). A record key is reporter × partner × partner2 × flow × product ×
    period × customs × mode of transport; when several landed files hold it, a published one (origin
    'live' or 'imported') wins over a SYNTHETIC sample one, then the most recently fetched one. The
    latest-vintage rule works within a lake partition (frequency × year × reporter): ``records`` must hold
    every file of each partition it holds. -#}
with

source as (

    select * from {{ records }}
    -- files the quality gate blocked are not published (docs/data-quality.md)
    where source_file not in ({{ gate_blocked_source_files('comtrade', 'records') }})
    {% if var('as_of', none) %}
    and cast(fetched_at as timestamp) < cast('{{ var("as_of") }}' as date) + interval 1 day
    {% endif %}

),

-- Lake files are partitioned by frequency × year × reporter and hold one vintage each, and a file
-- never repeats a record key (the parser quarantines repeats), so a key can only have several
-- versions in a partition that holds several vintages. Those partitions alone go through the
-- window; the others (at scale, nearly all: one bulk file per reporter-year) pass straight through.
partition_vintages as (

    select freq_code, ref_year, reporter_code, count(distinct vintage) as n_vintages
    from source
    group by freq_code, ref_year, reporter_code

),

single_vintage as (

    select s.*
    from source as s
    semi join partition_vintages as p
        on p.freq_code = s.freq_code
        and p.ref_year = s.ref_year
        and p.reporter_code = s.reporter_code
        and p.n_vintages = 1

),

several_vintages as (

    select s.*
    from source as s
    semi join partition_vintages as p
        on p.freq_code = s.freq_code
        and p.ref_year = s.ref_year
        and p.reporter_code = s.reporter_code
        and p.n_vintages > 1
    qualify row_number() over (
        partition by s.freq_code, s.period, s.reporter_code, s.partner_code, s.partner2_code, s.flow_code,
            s.cmd_code, s.customs_code, s.mot_code
        -- a published record (origin 'live' or 'imported') wins over a SYNTHETIC sample one whatever
        -- their fetch times (a home holds one kind only: defence in depth), then the latest vintage
        order by case when s.origin = 'sample' then 1 else 0 end, s.fetched_at desc, s.vintage desc
    ) = 1

),

latest as (

    select * from single_vintage
    union all
    select * from several_vintages

),

renamed as (

    select
        'comtrade' as source,
        origin,
        freq_code,
        period,
        ref_year,
        case when freq_code = 'M' then ref_month end as ref_month,
        reporter_code,
        reporter_iso,
        partner_code,
        partner_iso,
        partner2_code,
        flow_code,
        classification_code as hs_version,
        cmd_code,
        aggr_level,
        customs_code,
        mot_code,
        primary_value,
        cif_value,
        fob_value,
        net_wgt,
        is_net_wgt_estimated,
        qty,
        qty_unit_code,
        qty_unit_abbr,
        is_qty_estimated,
        legacy_estimation_flag,
        is_reported,
        is_aggregate,
        source_file,
        source_row,
        vintage,
        fetched_at
    from latest

)

select * from renamed
{%- endmacro %}


{% macro int_trade_flows_comtrade_sql(staged) -%}
{#- The Comtrade records of ``staged`` (rows of stg_comtrade__records) at the fact grain: totals over
    partner2, customs procedure and mode of transport only (breakdown rows would double count), HS6 rows
    only (TOTAL/HS2/HS4 rows are aggregates of the same trade). Columns are the shared shape of every
    int_trade_flows__* model. -#}
with

records as (

    select * from {{ staged }}
    where aggr_level = 6
      and partner2_code = 0
      and customs_code = 'C00'
      and mot_code = 0

),

final as (

    select
        source,
        origin,
        freq_code,
        period as period_key,
        ref_year,
        ref_month,
        reporter_code,
        partner_code,
        flow_code,
        hs_version,
        cmd_code as hs6,
        primary_value as value_usd,
        case when flow_code in ('M', 'FM', 'MIP', 'MOP', 'RM') then 'CIF' else 'FOB' end as valuation,
        cif_value as cif_value_usd,
        fob_value as fob_value_usd,
        net_wgt as net_weight_kg,
        qty as quantity,
        case when qty is not null then qty_unit_abbr end as quantity_unit,
        coalesce(is_qty_estimated, false) as is_quantity_estimated,
        coalesce(is_net_wgt_estimated, false) as is_net_weight_estimated,
        legacy_estimation_flag <> 0 or not coalesce(is_reported, true) as is_value_estimated,
        partner_code = 0 or coalesce(is_aggregate, false) as is_aggregate,
        source_file,
        vintage
    from records

)

select * from final
{%- endmacro %}
