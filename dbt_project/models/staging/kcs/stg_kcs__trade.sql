-- Korea Customs lines in long form: one row per month × partner (ISO2) × HSK10 code × flow.
-- When several landed responses hold the same month × partner × code, the most recently fetched
-- wins (revisions). Exports are FOB, imports CIF, both in US dollars; weights in kg.
with

source as (

    select * from {{ source('kcs', 'trade') }}
    -- files the quality gate blocked are not published (docs/data-quality.md)
    where source_file not in ({{ gate_blocked_source_files('kcs', 'trade') }})

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by period, stat_cd, hsk10
        -- source file and row break the tie of a code listed twice in one fetch, so the same row
        -- wins whatever order the worker threads deliver the rows in
        order by fetched_at desc, vintage desc, source_file, source_row
    ) = 1

),

exports as (

    select *, 'X' as flow_code, exp_usd as value_usd, exp_wgt_kg as net_weight_kg from latest
    where exp_usd > 0 or exp_wgt_kg > 0

),

imports as (

    select *, 'M' as flow_code, imp_usd as value_usd, imp_wgt_kg as net_weight_kg from latest
    where imp_usd > 0 or imp_wgt_kg > 0

),

renamed as (

    select
        'kcs' as source,
        origin,
        period as period_key,
        ref_year,
        ref_month,
        stat_cd as partner_iso2,
        flow_code,
        hsk10,
        hs6,
        value_usd,
        net_weight_kg,
        source_file,
        vintage,
        fetched_at
    from (select * from exports union all select * from imports)

)

select * from renamed
