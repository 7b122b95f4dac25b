-- The latest published vintage of every Comtrade record (or the one current on var('as_of')).
-- A record key is reporter × partner × partner2 × flow × product × period × customs × mode of
-- transport; when several landed files hold it, a published one (origin 'live' or 'imported') wins
-- over a SYNTHETIC sample one, then the most recently fetched one.
-- A view on both targets: the incremental fact reads only the lake partitions it re-derives (dbt_project.yml).
{{ config(materialized='view') }}
with

source as (

    select * from {{ source('comtrade', 'records') }}
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
