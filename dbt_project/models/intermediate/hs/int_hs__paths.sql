-- One row per path from an HS6 code of any version (H0…H6) to a code of a target version (H6 =
-- HS2022 for canonical codes, H3 = HS2007 for long series), walking adjacent-version links of
-- int_hs__concordance_steps: forward when the start is older than the target, backward when newer.
-- A code with no path to the target gets one row with a null end, the codes where its walk stopped
-- (dead_ends) and is_deleted = every one of them is in hs_deleted_codes without successor (a code
-- deleted by a revision, e.g. HS1996 252700 cryolite); otherwise a gap the tables do not bridge.
{%- set targets = ['H6', 'H3'] %}
with recursive

steps as (

    select from_version, from_hs6, to_version, to_hs6, is_unchanged
    from {{ ref('int_hs__concordance_steps') }}

),

starts as (

    {% for target in targets -%}
    select '{{ target }}' as target_version, hs_version as start_version, hs6 as start_hs6
    from {{ ref('hs6_codes') }}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

walk as (

    select
        target_version,
        start_version,
        start_hs6,
        start_version as cur_version,
        start_hs6 as cur_hs6,
        start_version || '-' || start_hs6 as path,
        -- the version steps where the code changed, each preceded by ',' (a string, not a list: portable)
        cast('' as string) as breaks,
        0 as n_code_changes
    from starts
    union all
    select
        w.target_version,
        w.start_version,
        w.start_hs6,
        s.to_version,
        s.to_hs6,
        w.path || ' > ' || s.to_version || '-' || s.to_hs6,
        case when s.is_unchanged then w.breaks else w.breaks || ',' || s.from_version || '>' || s.to_version end,
        w.n_code_changes + case when s.from_hs6 = s.to_hs6 then 0 else 1 end
    from walk as w
    inner join steps as s
        on s.from_version = w.cur_version
        and s.from_hs6 = w.cur_hs6
    where (w.cur_version < w.target_version and s.to_version > s.from_version)
       or (w.cur_version > w.target_version and s.to_version < s.from_version)

),

deleted as (

    select hs_version, hs6
    from {{ ref('hs_deleted_codes') }}
    where resolution = 'none'

),

-- where a walk stops short of its target: no step leads on in its direction
stopped as (

    select w.target_version, w.start_version, w.start_hs6, w.cur_version, w.cur_hs6
    from walk as w
    where w.cur_version <> w.target_version
      and not exists (
          select 1 from steps as s
          where s.from_version = w.cur_version
            and s.from_hs6 = w.cur_hs6
            and ((w.cur_version < w.target_version and s.to_version > s.from_version)
              or (w.cur_version > w.target_version and s.to_version < s.from_version))
      )

),

reached as (

    select
        target_version,
        start_version,
        start_hs6,
        cur_hs6 as end_hs6,
        path,
        nullif(substr(breaks, 2), '') as breaks,  -- without the leading ','
        n_code_changes,
        cast(null as string) as dead_ends,
        false as is_deleted
    from walk
    where cur_version = target_version

),

unreached as (

    select
        s.target_version,
        s.start_version,
        s.start_hs6,
        cast(null as string) as end_hs6,
        cast(null as string) as path,
        cast(null as string) as breaks,
        cast(null as integer) as n_code_changes,
        {{ ordered_string_agg("t.cur_version || '-' || t.cur_hs6", "','", "t.cur_version || '-' || t.cur_hs6", distinct=true) }}
            as dead_ends,
        coalesce(bool_and(d.hs6 is not null), false) as is_deleted
    from starts as s
    left join stopped as t
        on t.target_version = s.target_version
        and t.start_version = s.start_version
        and t.start_hs6 = s.start_hs6
    left join deleted as d
        on d.hs_version = t.cur_version
        and d.hs6 = t.cur_hs6
    where not exists (
        select 1 from reached as r
        where r.target_version = s.target_version
          and r.start_version = s.start_version
          and r.start_hs6 = s.start_hs6
    )
    group by s.target_version, s.start_version, s.start_hs6

),

final as (

    select * from reached
    union all
    select * from unreached

)

select * from final
