-- One row per HS6 code per HS version (H0 = HS1992 … H6 = HS2022), with the HS4/HS2 hierarchy
-- (HS2022 texts of the heading and chapter), the semiconductor segment from the taxonomy seed, and
-- the code's canonical (principal) HS2022 successor from int_hs__code_map.
with

codes as (

    select * from {{ ref('hs6_codes') }}

),

taxonomy as (

    select * from {{ ref('semiconductor_taxonomy') }}

),

headings as (

    select hs_level, code, description from {{ ref('hs_headings') }}

),

hs2022 as (

    select
        hs_version,
        hs6,
        any_value(target_hs6) filter (where is_principal) as hs6_2022,
        count(target_hs6) as hs2022_n_codes,
        any_value(relationship) as hs2022_relationship
    from {{ ref('int_hs__code_map') }}
    where target_version = 'H6'
    group by 1, 2

),

final as (

    select
        c.hs_version || '-' || c.hs6 as product_key,
        c.hs_version,
        c.hs6,
        c.hs4,
        c.hs2,
        c.description,
        h4.description as hs4_description,
        h2.description as hs2_description,
        c.standard_unit,
        t.segment,
        t.sub_segment,
        t.segment is not null as is_semiconductor,
        coalesce(t.is_partial, false) as is_partly_semiconductor,
        t.note as taxonomy_note,
        t.source as taxonomy_source,
        m.hs6_2022,
        coalesce(m.hs2022_relationship, 'unmapped') as hs2022_relationship,
        coalesce(m.hs2022_n_codes, 0) as hs2022_n_codes,
        d.description as hs2022_description
    from codes as c
    left join taxonomy as t
        on t.hs_version = c.hs_version
        and t.hs6 = c.hs6
    left join headings as h4
        on h4.hs_level = 'HS4' and h4.code = c.hs4
    left join headings as h2
        on h2.hs_level = 'HS2' and h2.code = c.hs2
    left join hs2022 as m
        on m.hs_version = c.hs_version
        and m.hs6 = c.hs6
    left join codes as d
        on d.hs_version = 'H6'
        and d.hs6 = m.hs6_2022

)

select * from final
