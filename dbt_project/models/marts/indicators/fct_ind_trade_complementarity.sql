-- One row per frequency × period × exporting economy × importing economy × product scope (segment
-- or total): the trade complementarity index (Michaely) between the exporter's export structure and
-- the importer's import structure over the HS6 codes of the scope, 0 (no overlap) to 100 (identical).
-- TC = 100 × (1 − Σ_k |m_jk − x_ik| / 2) = 100 × Σ_k min(m_jk, x_ik) because both share vectors sum
-- to one; x_ik = k's share in i's exports to all sample economies, m_jk = k's share in j's imports.
-- Sums are exact (macros/sum_exact.sql; shares at 20 decimals): independent of the row order.
-- Every pair of an economy that exports in the scope and another that imports in it has a row, 0
-- when they have no code in common: most rows (about 4 in 5 on the benchmark), so the joins below
-- match on one integer per frequency × period × scope (scope_id) instead of four strings.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): a row of
-- one period reads that period's rows only, but those are reconciled values, which a revision of any
-- single reporter-year moves in every year (int_indicators__flows says why), so a slice would be the
-- whole table.
with

flows as (

    select * from {{ ref('int_indicators__flows') }}
    where product_level = 'hs6'

),

-- Each HS6 code in each scope: the segment and the total.
scoped as (

    select freq_code, period_key, exporter_code, importer_code,
        'segment' as product_level, segment as product_code, product_code as hs6, value_usd
    from flows
    union all
    select freq_code, period_key, exporter_code, importer_code,
        'total', 'all', product_code, value_usd
    from flows

),

-- one number per frequency × period × scope, the key of every join below
scopes as (

    select
        freq_code, period_key, product_level, product_code,
        row_number() over (order by freq_code, period_key, product_level, product_code) as scope_id
    from (select distinct freq_code, period_key, product_level, product_code from scoped) as s

),

scoped_flows as (

    select s.scope_id, f.exporter_code, f.importer_code, f.hs6, f.value_usd
    from scoped as f
    inner join scopes as s
        on s.freq_code = f.freq_code
        and s.period_key = f.period_key
        and s.product_level = f.product_level
        and s.product_code = f.product_code

),

{%- for side, country in [('export', 'exporter_code'), ('import', 'importer_code')] %}

-- {{ side }}s of each HS6 code by each economy, and their total over the scope
{{ side }}_values as (

    select scope_id, {{ country }} as country_code, hs6, {{ sum_exact('value_usd') }} as value_usd
    from scoped_flows
    group by scope_id, {{ country }}, hs6

),

{{ side }}_totals as (

    select scope_id, country_code, {{ sum_exact('value_usd') }} as total_usd
    from {{ side }}_values
    group by scope_id, country_code

),

{{ side }}_structure as (

    select v.scope_id, v.country_code, v.hs6, v.value_usd / nullif(t.total_usd, 0) as share
    from {{ side }}_values as v
    inner join {{ side }}_totals as t
        on t.scope_id = v.scope_id
        and t.country_code = v.country_code

),
{%- endfor %}

-- every exporter × importer of a scope (distinct already: one row per scope and economy each side)
pairs as (

    select x.scope_id, x.country_code as exporter_code, m.country_code as importer_code
    from export_totals as x
    inner join import_totals as m
        on m.scope_id = x.scope_id
        and m.country_code <> x.country_code

),

overlap as (

    select
        x.scope_id,
        x.country_code as exporter_code,
        m.country_code as importer_code,
        {{ sum_exact('least(x.share, m.share)', 20) }} as overlap,
        count(*) as n_common_products
    from export_structure as x
    inner join import_structure as m
        on m.scope_id = x.scope_id
        and m.hs6 = x.hs6
        and m.country_code <> x.country_code
    group by x.scope_id, x.country_code, m.country_code

),

periods as (

    select freq_code, period_key, min(ref_year) as ref_year, min(ref_month) as ref_month, max(origin) as origin
    from flows
    group by freq_code, period_key

),

final as (

    select
        s.freq_code,
        s.period_key,
        d.ref_year,
        d.ref_month,
        p.exporter_code,
        p.importer_code,
        s.product_level,
        s.product_code,
        coalesce(o.n_common_products, 0) as n_common_products,
        100 * coalesce(o.overlap, 0) as trade_complementarity,
        d.origin
    from pairs as p
    left join overlap as o
        on o.scope_id = p.scope_id
        and o.exporter_code = p.exporter_code
        and o.importer_code = p.importer_code
    inner join scopes as s
        on s.scope_id = p.scope_id
    inner join periods as d
        on d.freq_code = s.freq_code
        and d.period_key = s.period_key

)

select * from final
