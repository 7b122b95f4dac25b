-- The latest published vintage of every Comtrade record (or the one current on var('as_of')).
-- A record key is reporter × partner × partner2 × flow × product × period × customs × mode of
-- transport; when several landed files hold it, the most recently fetched one wins.
with

source as (

    select * from {{ source('comtrade', 'records') }}
    -- files the quality gate blocked are not published (docs/data-quality.md)
    where source_file not in ({{ gate_blocked_source_files('comtrade', 'records') }})
    {% if var('as_of', none) %}
    and cast(fetched_at as timestamp) < cast('{{ var("as_of") }}' as date) + interval 1 day
    {% endif %}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by freq_code, period, reporter_code, partner_code, partner2_code, flow_code,
            cmd_code, customs_code, mot_code
        order by fetched_at desc, vintage desc
    ) = 1

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
