-- One row per Comtrade reporter or partner area (M49 code), from the Comtrade reference lists.
with

countries as (

    select * from {{ ref('comtrade_countries') }}

),

final as (

    select
        m49_code,
        nullif(trim(iso3), '') as iso3,
        nullif(trim(iso2), '') as iso2,
        country_name,
        full_name,
        case when m49_code = 490 then 'Taiwan (Other Asia, nes)' else country_name end as display_name,
        is_group,
        m49_code = 0 as is_world,
        lower(country_name) like '%nes%' or lower(full_name) like '%not elsewhere specified%' as is_nes_area,
        m49_code = 490 as is_taiwan_in_comtrade,
        entry_year,
        exit_year,
        is_reporter,
        is_partner
    from countries

)

select * from final
