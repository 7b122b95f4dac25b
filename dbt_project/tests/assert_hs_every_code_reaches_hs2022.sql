-- Every code of the official H0…H6 lists (hs6_codes) reaches HS2022 (int_hs__code_map, target H6)
-- or is deleted: its walk ends at codes deleted without successor (hs_deleted_codes, resolution
-- none). One row per problem:
--   missing   a listed code has no row in int_hs__code_map
--   unmapped  a listed code reaches no HS2022 code and is not deleted (a gap in the concordance)
--   gap_left  a code of hs_deleted_codes resolved with successors still reaches no HS2022 code
--   not_deleted  a code of hs_deleted_codes without successor is not 'deleted' in the map
--   unknown   a code of hs_deleted_codes is not in its version's list
with

codes as (

    select hs_version, hs6 from {{ ref('hs6_codes') }}

),

gaps as (

    select hs_version, hs6, resolution from {{ ref('hs_deleted_codes') }}

),

mapped as (

    select
        hs_version,
        hs6,
        count(target_hs6) as n_targets,
        bool_or(relationship = 'deleted') as is_deleted,
        bool_or(relationship = 'unmapped') as is_unmapped
    from {{ ref('int_hs__code_map') }}
    where target_version = 'H6'
    group by 1, 2

),

problems as (

    select 'missing' as problem, c.hs_version, c.hs6
    from codes as c
    anti join mapped as m
        on m.hs_version = c.hs_version
        and m.hs6 = c.hs6

    union all

    select 'unmapped', hs_version, hs6
    from mapped
    where is_unmapped or (n_targets = 0 and not is_deleted)

    union all

    select 'gap_left', g.hs_version, g.hs6
    from gaps as g
    inner join mapped as m
        on m.hs_version = g.hs_version
        and m.hs6 = g.hs6
    where g.resolution <> 'none' and m.n_targets = 0

    union all

    select 'not_deleted', g.hs_version, g.hs6
    from gaps as g
    left join mapped as m
        on m.hs_version = g.hs_version
        and m.hs6 = g.hs6
    where g.resolution = 'none' and not coalesce(m.is_deleted, false)

    union all

    select 'unknown', g.hs_version, g.hs6
    from gaps as g
    anti join codes as c
        on c.hs_version = g.hs_version
        and c.hs6 = g.hs6

)

select * from problems
