-- One row per frequency × period × exporting economy × product (HS6 or segment): Balassa revealed
-- comparative advantage WITHIN THE COVERED UNIVERSE — the product's share in the economy's exports
-- of covered semiconductor products, divided by the product's share in all sample economies'
-- exports of covered products. Reconciled FOB flows; an absent row means no exports.
-- Sums of DOUBLE values are exact (macros/sum_exact.sql): independent of the row order.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): a row of
-- one period reads that period's rows only, but those are reconciled values, which a revision of any
-- single reporter-year moves in every year (int_indicators__flows says why), so a slice would be the
-- whole table.
with

flows as (

    select * from {{ ref('int_indicators__flows') }}

),

exports as (

    select
        freq_code,
        period_key,
        min(ref_year) as ref_year,
        min(ref_month) as ref_month,
        exporter_code,
        product_level,
        product_code,
        min(segment) as segment,
        {{ sum_exact('value_usd') }} as exports_usd,
        max(origin) as origin
    from flows
    group by freq_code, period_key, exporter_code, product_level, product_code

),

universe_products as (

    select freq_code, period_key, product_level, product_code, {{ sum_exact('exports_usd') }} as universe_product_usd
    from exports
    where product_level in ('hs6', 'segment')
    group by freq_code, period_key, product_level, product_code

),

with_totals as (

    select
        e.*,
        t.exports_usd as exporter_total_usd,
        p.universe_product_usd
    from exports as e
    join exports as t
        on t.freq_code = e.freq_code
        and t.period_key = e.period_key
        and t.exporter_code = e.exporter_code
        and t.product_level = 'total'
    join universe_products as p
        on p.freq_code = e.freq_code
        and p.period_key = e.period_key
        and p.product_level = e.product_level
        and p.product_code = e.product_code
    where e.product_level in ('hs6', 'segment')

),

universe as (

    select freq_code, period_key, {{ sum_exact('exports_usd') }} as universe_total_usd
    from exports
    where product_level = 'total'
    group by freq_code, period_key

),

final as (

    select
        w.freq_code,
        w.period_key,
        w.ref_year,
        w.ref_month,
        w.exporter_code,
        w.product_level,
        w.product_code,
        w.segment,
        w.exports_usd,
        w.exporter_total_usd,
        w.universe_product_usd,
        u.universe_total_usd,
        (w.exports_usd / nullif(w.exporter_total_usd, 0))
            / nullif(w.universe_product_usd / nullif(u.universe_total_usd, 0), 0) as rca,
        w.origin
    from with_totals as w
    join universe as u
        on u.freq_code = w.freq_code and u.period_key = w.period_key

)

select
    *,
    (rca - 1) / (rca + 1) as rca_symmetric
from final
