-- One row per Comtrade reporter or partner area (M49 code), from the Comtrade reference lists,
-- with ISO codes reconciled (Taiwan: 490 in Comtrade, 158 in ISO/Korean lists), an economist's
-- region, EU and ASEAN membership years, and World / "nes" areas flagged.
with

countries as (

    select * from {{ ref('comtrade_countries') }}

),

reconciliation as (

    select * from {{ ref('country_code_reconciliation') }}

),

iso as (

    select * from {{ ref('iso_country_codes') }}

),

regions as (

    select * from {{ ref('country_regions') }}

),

japan_codes as (

    select m49_code, {{ ordered_string_agg("lpad(cast(japan_code as string), 3, '0')", "','", 'japan_code') }} as japan_customs_codes
    from {{ ref('japan_customs_country_codes') }}
    group by 1

),

membership as (

    select
        iso3,
        min(join_year) filter (where group_code = 'EU') as eu_join_year,
        min(exit_year) filter (where group_code = 'EU') as eu_exit_year,
        min(join_year) filter (where group_code = 'ASEAN') as asean_join_year
    from {{ ref('country_group_membership') }}
    group by 1

),

coded as (

    select
        c.*,
        coalesce(r.economy_iso3, case when not c.is_group and length(trim(c.iso3)) = 3 then trim(c.iso3) end) as economy_iso3,
        coalesce(r.economy_iso2, nullif(trim(c.iso2), '')) as economy_iso2,
        coalesce(r.trade_m49_code, c.m49_code) as trade_m49_code
    from countries as c
    left join reconciliation as r
        on r.m49_code = c.m49_code

),

final as (

    select
        c.m49_code,
        nullif(trim(c.iso3), '') as iso3,
        nullif(trim(c.iso2), '') as iso2,
        c.economy_iso3,
        c.economy_iso2,
        i.iso_numeric_code,
        c.trade_m49_code,
        c.country_name,
        c.full_name,
        case when c.m49_code = 490 then 'Taiwan (Other Asia, nes)' else c.country_name end as display_name,
        i.name_ko as name_korean,
        j.japan_customs_codes,
        g.region,
        g.region = 'East Asia' as is_east_asia,
        m.asean_join_year is not null as is_asean,
        m.asean_join_year,
        m.eu_join_year,
        m.eu_exit_year,
        m.eu_join_year is not null and m.eu_exit_year is null as is_eu27,
        c.is_group,
        c.m49_code = 0 as is_world,
        (lower(c.country_name) like '%, nes' or lower(c.full_name) like '%not elsewhere specified%')
            and c.m49_code <> 490 as is_nes_area,
        c.m49_code = 490 as is_taiwan_in_comtrade,
        c.entry_year,
        c.exit_year,
        c.is_reporter,
        c.is_partner
    from coded as c
    left join iso as i
        on i.iso3 = c.economy_iso3
    left join regions as g
        on g.iso3 = c.economy_iso3
    left join membership as m
        on m.iso3 = c.economy_iso3
    left join japan_codes as j
        on j.m49_code = c.m49_code

)

select * from final
