{{ config(materialized='table') }}
-- One row per (target version, as-reported HS version, HS6 code, target HS6 code) with the share of
-- the reported value that goes to the target code. Split rule, applied at every adjacent-version
-- step of a path and multiplied along it (summed over parallel paths):
--   * a code with one successor passes all its value (weight 1, method 'single');
--   * a code that splits (1:n, n:n) is shared out in proportion to the value reported in the target
--     version under each successor code, over all reporters, partners, flows and periods of
--     fct_trade_flows that are not aggregates (method 'trade');
--   * when no successor has any reported value, in equal shares (method 'equal').
-- Shares lost on branches that dead-end before the target are redistributed (see reached_share).
-- Downstream of fct_trade_flows because the trade weights come from the facts themselves.
with

steps as (

    select from_version, from_hs6, to_version, to_hs6
    from {{ ref('int_hs_concordance_steps') }}

),

paths as (

    select * from {{ ref('int_hs_paths') }}

),

reported as (

    select hs_version, hs6, sum(abs(value_usd)) as value_usd
    from {{ ref('fct_trade_flows') }}
    where not is_aggregate
    group by 1, 2

),

step_values as (

    select
        s.*,
        count(*) over (partition by s.from_version, s.from_hs6, s.to_version) as n_successors,
        coalesce(r.value_usd, 0) as successor_value_usd,
        sum(coalesce(r.value_usd, 0)) over (partition by s.from_version, s.from_hs6, s.to_version) as all_successors_value_usd
    from steps as s
    left join reported as r
        on r.hs_version = s.to_version
        and r.hs6 = s.to_hs6

),

step_weights as (

    select
        from_version || '-' || from_hs6 as from_key,
        to_version || '-' || to_hs6 as to_key,
        case
            when n_successors = 1 then 1.0
            when all_successors_value_usd > 0 then successor_value_usd / all_successors_value_usd
            else 1.0 / n_successors
        end as weight,
        case
            when n_successors = 1 then 'single'
            when all_successors_value_usd > 0 then 'trade'
            else 'equal'
        end as method
    from step_values

),

path_steps as (

    select
        p.target_version,
        p.start_version,
        p.start_hs6,
        p.end_hs6,
        p.path,
        codes[i] as from_key,
        codes[i + 1] as to_key
    from (
        select *, string_split(path, ' > ') as codes
        from paths
        where end_hs6 is not null
    ) as p,
    unnest(range(1, len(p.codes))) as t(i)

),

path_weights as (

    select
        ps.target_version,
        ps.start_version,
        ps.start_hs6,
        ps.end_hs6,
        ps.path,
        product(w.weight) as weight,
        bool_or(w.method = 'equal') as has_equal_step,
        bool_or(w.method = 'trade') as has_trade_step
    from path_steps as ps
    inner join step_weights as w
        on w.from_key = ps.from_key
        and w.to_key = ps.to_key
    group by 1, 2, 3, 4, 5

),

one_code_paths as (

    -- the start code is already in the target version: nothing to walk
    select target_version, start_version, start_hs6, end_hs6, path, 1.0 as weight, false as has_equal_step, false as has_trade_step
    from paths
    where end_hs6 is not null and start_version = target_version

),

per_target as (

    select
        target_version,
        start_version as hs_version,
        start_hs6 as hs6,
        end_hs6 as target_hs6,
        sum(weight) as raw_weight,
        case
            when bool_or(has_equal_step) then 'equal'
            when bool_or(has_trade_step) then 'trade'
            else 'single'
        end as weight_method
    from (select * from path_weights union all select * from one_code_paths)
    group by 1, 2, 3, 4

),

final as (

    -- A branch that dead-ends before the target (a successor with no further link, e.g. an HS1996
    -- code no HS2002 code converts to) loses its share; the shares of the branches that reach the
    -- target are scaled up to sum to 1 and reached_share records how much had reached it.
    select
        target_version,
        hs_version,
        hs6,
        target_hs6,
        case
            when sum(raw_weight) over w > 0 then raw_weight / sum(raw_weight) over w
            else 1.0 / count(*) over w
        end as weight,
        weight_method,
        sum(raw_weight) over w as reached_share
    from per_target
    window w as (partition by target_version, hs_version, hs6)

)

select * from final
