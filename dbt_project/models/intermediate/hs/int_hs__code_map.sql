-- One row per (target version, as-reported HS version, HS6 code, target HS6 code): the structural
-- map of every code to HS2022 (target H6) and to HS2007 (target H3), without weights. The
-- relationship is seen from the reported code: 1:1, n:1 (several reported codes merge into the
-- target), 1:n (the reported code splits), n:n. target_hs6 is null when no link reaches the target:
-- 'deleted' when the code's walk ends at codes deleted without successor (hs_deleted_codes), else
-- 'unmapped' (a gap; assert_hs_every_code_reaches_hs2022 fails on any for HS2022).
-- The principal target of a code is the one reached with the fewest code changes (the code itself
-- when it survives), ties broken by the lowest code: a structural choice, made without trade data.
with

paths as (

    select * from {{ ref('int_hs__paths') }}

),

per_target as (

    select
        target_version,
        start_version as hs_version,
        start_hs6 as hs6,
        end_hs6 as target_hs6,
        count(path) as n_paths,
        min(n_code_changes) as min_code_changes,
        {{ merged_csv_lists('breaks') }} as breaks,
        any_value(dead_ends) as dead_ends,
        coalesce(bool_and(is_deleted), false) as is_deleted
    from paths
    group by 1, 2, 3, 4

),

counted as (

    select
        *,
        count(target_hs6) over (partition by target_version, hs_version, hs6) as n_target_codes,
        count(*) over (partition by target_version, hs_version, target_hs6) as n_source_codes
    from per_target

),

final as (

    select
        target_version,
        hs_version,
        hs6,
        target_hs6,
        n_paths,
        min_code_changes,
        n_target_codes,
        n_source_codes,
        case
            when target_hs6 is null and is_deleted then 'deleted'
            when target_hs6 is null then 'unmapped'
            when max(n_source_codes) over (partition by target_version, hs_version, hs6) > 1 and n_target_codes > 1 then 'n:n'
            when n_target_codes > 1 then '1:n'
            when n_source_codes > 1 then 'n:1'
            else '1:1'
        end as relationship,
        breaks,
        dead_ends,
        target_hs6 is not null and breaks is null and target_hs6 = hs6 as is_unchanged,
        target_hs6 is not null and row_number() over (
            partition by target_version, hs_version, hs6
            order by min_code_changes nulls last, target_hs6 <> hs6, target_hs6
        ) = 1 as is_principal
    from counted

)

select * from final
