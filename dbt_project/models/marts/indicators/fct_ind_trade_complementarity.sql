-- One row per frequency × period × exporting economy × importing economy × product scope (segment
-- or total): the trade complementarity index (Michaely) between the exporter's export structure and
-- the importer's import structure over the HS6 codes of the scope, 0 (no overlap) to 100 (identical).
-- TC = 100 × (1 − Σ_k |m_jk − x_ik| / 2) = 100 × Σ_k min(m_jk, x_ik) because both share vectors sum
-- to one; x_ik = k's share in i's exports to all sample economies, m_jk = k's share in j's imports.
-- Sums are exact (macros/sum_exact.sql; shares at 20 decimals): independent of the row order.
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

    select freq_code, period_key, ref_year, ref_month, exporter_code, importer_code,
        'segment' as product_level, segment as product_code, product_code as hs6, value_usd, origin
    from flows
    union all
    select freq_code, period_key, ref_year, ref_month, exporter_code, importer_code,
        'total', 'all', product_code, value_usd, origin
    from flows

),

{%- for side, country in [('export', 'exporter_code'), ('import', 'importer_code')] %}

-- {{ side }}s of each HS6 code by each economy, and their total over the scope
{{ side }}_values as (

    select
        freq_code, period_key, product_level, product_code, {{ country }} as country_code, hs6,
        {{ sum_exact('value_usd') }} as value_usd
    from scoped
    group by freq_code, period_key, product_level, product_code, {{ country }}, hs6

),

{{ side }}_totals as (

    select
        freq_code, period_key, product_level, product_code, country_code,
        {{ sum_exact('value_usd') }} as total_usd
    from {{ side }}_values
    group by freq_code, period_key, product_level, product_code, country_code

),

{{ side }}_structure as (

    select
        v.freq_code, v.period_key, v.product_level, v.product_code, v.country_code, v.hs6,
        v.value_usd / nullif(t.total_usd, 0) as share
    from {{ side }}_values as v
    inner join {{ side }}_totals as t
        on t.freq_code = v.freq_code
        and t.period_key = v.period_key
        and t.product_level = v.product_level
        and t.product_code = v.product_code
        and t.country_code = v.country_code

),
{%- endfor %}

pairs as (

    select distinct
        x.freq_code, x.period_key, x.product_level, x.product_code,
        x.country_code as exporter_code, m.country_code as importer_code
    from (select distinct freq_code, period_key, product_level, product_code, country_code from export_structure) as x
    join (select distinct freq_code, period_key, product_level, product_code, country_code from import_structure) as m
        on m.freq_code = x.freq_code
        and m.period_key = x.period_key
        and m.product_level = x.product_level
        and m.product_code = x.product_code
        and m.country_code <> x.country_code

),

overlap as (

    select
        x.freq_code, x.period_key, x.product_level, x.product_code,
        x.country_code as exporter_code, m.country_code as importer_code,
        {{ sum_exact('least(x.share, m.share)', 20) }} as overlap,
        count(*) as n_common_products
    from export_structure as x
    join import_structure as m
        on m.freq_code = x.freq_code
        and m.period_key = x.period_key
        and m.product_level = x.product_level
        and m.product_code = x.product_code
        and m.hs6 = x.hs6
        and m.country_code <> x.country_code
    group by all

),

periods as (

    select freq_code, period_key, min(ref_year) as ref_year, min(ref_month) as ref_month, max(origin) as origin
    from flows
    group by freq_code, period_key

),

final as (

    select
        p.freq_code,
        p.period_key,
        d.ref_year,
        d.ref_month,
        p.exporter_code,
        p.importer_code,
        p.product_level,
        p.product_code,
        coalesce(o.n_common_products, 0) as n_common_products,
        100 * coalesce(o.overlap, 0) as trade_complementarity,
        d.origin
    from pairs as p
    left join overlap as o
        using (freq_code, period_key, product_level, product_code, exporter_code, importer_code)
    join periods as d
        on d.freq_code = p.freq_code and d.period_key = p.period_key

)

select * from final
