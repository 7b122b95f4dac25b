-- Korea Customs lines in long form: one row per month × partner (ISO2) × HSK10 code × flow.
-- When several landed responses hold the same month × partner × code, a published one (origin
-- 'live' or 'imported') wins over a SYNTHETIC sample one whatever their fetch times (a home holds one
-- kind only, ingest/config.py; this is defence in depth), then the most recently fetched (revisions).
-- Exports are FOB, imports CIF, both in US dollars; weights in kg.
-- Zero is data: Korea Customs publishes both flows' columns on every line it lists, so a line's
-- export and import figures are both reported values — 0 included (e.g. 0 kg / 0 USD of HF from
-- Japan in August 2019 is a reported zero month, not a missing one). A flow's row is kept whenever
-- its value is not null; a month or code absent from the response stays absent.
with

source as (

    {{ gated_source('kcs', 'trade') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by period, stat_cd, hsk10
        -- source file and row break the tie of a code listed twice in one fetch, so the same row
        -- wins whatever order the worker threads deliver the rows in
        order by case when origin = 'sample' then 1 else 0 end, fetched_at desc, vintage desc,
            source_file, source_row
    ) = 1

),

exports as (

    select *, 'X' as flow_code, exp_usd as value_usd, exp_wgt_kg as net_weight_kg from latest
    where exp_usd is not null

),

imports as (

    select *, 'M' as flow_code, imp_usd as value_usd, imp_wgt_kg as net_weight_kg from latest
    where imp_usd is not null

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
