-- One row per link between an HS6 code of one HS version and an HS6 code of the adjacent version
-- (H0↔H1↔H2↔H3↔H4↔H5↔H6), in both directions: forward (older → newer) and backward (newer → older).
-- Links come from the hs_concordance seed (UNSD correlation tables; conversion tables before HS2002;
-- gap links for codes a table leaves without successor, see ingest/reference_build.py); a code that
-- exists in both adjacent versions and that the official table does not list is unchanged (1:1). Gap
-- links do not count as listing their target: 9999AA → 999999 must not cancel 999999 → 999999.
with

concordance as (

    select * from {{ ref('hs_concordance') }}

),

codes as (

    select hs_version, hs6 from {{ ref('hs6_codes') }}

),

version_pairs as (

    select distinct newer_version, older_version from concordance

),

listed as (

    select newer_version, newer_hs6, older_version, older_hs6, is_ex, table_kind, source_table
    from concordance

),

in_official_table as (

    select newer_version, newer_hs6, older_hs6
    from listed
    where table_kind in ('correlation', 'conversion')

),

unchanged as (

    select
        p.newer_version,
        n.hs6 as newer_hs6,
        p.older_version,
        n.hs6 as older_hs6,
        false as is_ex,
        'unchanged' as table_kind,
        'hs6_codes' as source_table
    from version_pairs as p
    inner join codes as n on n.hs_version = p.newer_version
    inner join codes as o on o.hs_version = p.older_version and o.hs6 = n.hs6
    where not exists (
        select 1 from in_official_table as l
        where l.newer_version = p.newer_version and l.newer_hs6 = n.hs6
    )
    and not exists (
        select 1 from in_official_table as l
        where l.newer_version = p.newer_version and l.older_hs6 = n.hs6
    )

),

links as (

    select * from listed
    union all
    select * from unchanged

),

directed as (

    select
        older_version as from_version, older_hs6 as from_hs6,
        newer_version as to_version, newer_hs6 as to_hs6,
        'forward' as direction, is_ex, table_kind, source_table
    from links
    union all
    select
        newer_version, newer_hs6, older_version, older_hs6,
        'backward', is_ex, table_kind, source_table
    from links

),

counted as (

    select
        *,
        count(*) over (partition by from_version, to_version, from_hs6) as n_to_codes,
        count(*) over (partition by from_version, to_version, to_hs6) as n_from_codes
    from directed

),

final as (

    select
        from_version,
        from_hs6,
        to_version,
        to_hs6,
        direction,
        case when n_from_codes = 1 then '1' else 'n' end
            || ':' || case when n_to_codes = 1 then '1' else 'n' end as link_relationship,
        n_to_codes,
        n_from_codes,
        from_hs6 = to_hs6 and n_to_codes = 1 and n_from_codes = 1 as is_unchanged,
        is_ex,
        table_kind,
        source_table
    from counted

)

select * from final
