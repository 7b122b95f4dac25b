-- One row per HS6 code per HS version (H0 = HS1992 … H6 = HS2022), with the semiconductor
-- segment from the taxonomy seed where the code is (partly) semiconductor-related.
with

codes as (

    select * from {{ ref('hs6_codes') }}

),

taxonomy as (

    select * from {{ ref('semiconductor_taxonomy') }}

),

final as (

    select
        c.hs_version || '-' || c.hs6 as product_key,
        c.hs_version,
        c.hs6,
        c.hs4,
        c.hs2,
        c.description,
        c.standard_unit,
        t.segment,
        t.sub_segment,
        t.segment is not null as is_semiconductor,
        coalesce(t.is_partial, false) as is_partly_semiconductor,
        t.note as taxonomy_note,
        t.source as taxonomy_source
    from codes as c
    left join taxonomy as t
        on t.hs_version = c.hs_version
        and t.hs6 = c.hs6

)

select * from final
