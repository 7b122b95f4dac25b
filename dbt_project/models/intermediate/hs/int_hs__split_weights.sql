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
-- Order-independent (identical under parallel DuckDB workers): value and weight sums are exact
-- (macros/sum_exact.sql; weights at 20 decimals) and the weights of a path multiply in path order.
with

steps as (

    select from_version, from_hs6, to_version, to_hs6
    from {{ ref('int_hs__concordance_steps') }}

),

paths as (

    select * from {{ ref('int_hs__paths') }}

),

-- the successors of codes that split (1:n, n:n): the only codes whose reported value is used
split_successors as (

    select distinct s.to_version, s.to_hs6
    from steps as s
    semi join (
        select from_version, from_hs6, to_version
        from steps
        group by all
        having count(*) > 1
    ) as splits
        on splits.from_version = s.from_version
        and splits.from_hs6 = s.from_hs6
        and splits.to_version = s.to_version

),

reported as (

    select f.hs_version, f.hs6, {{ sum_exact('abs(f.value_usd)') }} as value_usd
    from {{ ref('fct_trade_flows') }} as f
    semi join split_successors as c
        on c.to_version = f.hs_version
        and c.to_hs6 = f.hs6
    where not f.is_aggregate
    group by 1, 2

),

steps_valued as (

    select
        s.*,
        coalesce(r.value_usd, 0) as successor_value_usd
    from steps as s
    left join reported as r
        on r.hs_version = s.to_version
        and r.hs6 = s.to_hs6

),

-- per code and next version: how many successors, and their reported value together
successors as (

    select
        from_version,
        from_hs6,
        to_version,
        count(*) as n_successors,
        {{ sum_exact('successor_value_usd') }} as all_successors_value_usd
    from steps_valued
    group by from_version, from_hs6, to_version

),

step_values as (

    select
        v.*,
        t.n_successors,
        t.all_successors_value_usd
    from steps_valued as v
    inner join successors as t
        on t.from_version = v.from_version
        and t.from_hs6 = v.from_hs6
        and t.to_version = v.to_version

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

    -- step i of a path goes from its i-th code to the next ('A > B > C': A → B, B → C)
    select
        p.target_version,
        p.start_version,
        p.start_hs6,
        p.end_hs6,
        p.path,
        split_part(p.path, ' > ', t.i) as from_key,
        split_part(p.path, ' > ', t.i + 1) as to_key
    from (
        -- the number of steps is the number of ' > ' separators
        select *, cast((length(path) - length(replace(path, ' > ', ''))) / 3 as integer) as n_steps
        from paths
        where end_hs6 is not null
    ) as p,
    {{ integer_series('1', 'p.n_steps') }} as t(i)

),

path_weights as (

    select
        ps.target_version,
        ps.start_version,
        ps.start_hs6,
        ps.end_hs6,
        ps.path,
        -- multiplied in path order (from_key starts with the version, which only moves one way along
        -- a path): a floating-point product depends on the order of its factors. Steps of weight
        -- exactly 1 (most of them) leave a product's bits unchanged, so only the others are sorted
        -- and multiplied; a path of such steps only weighs 1.
        coalesce({{ ordered_product('case when w.weight <> 1.0 then w.weight end', 'ps.from_key') }}, 1.0) as weight,
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
        {{ sum_exact('weight', 20) }} as raw_weight,
        case
            when bool_or(has_equal_step) then 'equal'
            when bool_or(has_trade_step) then 'trade'
            else 'single'
        end as weight_method
    from (select * from path_weights union all select * from one_code_paths)
    group by 1, 2, 3, 4

),

reached as (

    select
        target_version,
        hs_version,
        hs6,
        {{ sum_exact('raw_weight', 20) }} as reached_share,
        count(*) as n_target_codes
    from per_target
    group by target_version, hs_version, hs6

),

final as (

    -- A branch that dead-ends before the target (a successor with no further link, e.g. an HS1996
    -- code no HS2002 code converts to) loses its share; the shares of the branches that reach the
    -- target are scaled up to sum to 1 and reached_share records how much had reached it.
    select
        p.target_version,
        p.hs_version,
        p.hs6,
        p.target_hs6,
        case
            when r.reached_share > 0 then p.raw_weight / r.reached_share
            else 1.0 / r.n_target_codes
        end as weight,
        p.weight_method,
        r.reached_share
    from per_target as p
    inner join reached as r
        on r.target_version = p.target_version
        and r.hs_version = p.hs_version
        and r.hs6 = p.hs6

)

select * from final
