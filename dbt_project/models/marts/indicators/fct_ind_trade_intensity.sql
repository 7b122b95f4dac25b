-- One row per frequency × period × exporter → importer × product scope (segment or total): the
-- trade intensity index — the share of the exporter's covered exports that go to the importer,
-- divided by the share of all sample economies' covered exports that go to the importer
-- (> 1: the pair trades more than the importer's weight in the universe would predict).
-- Totals are exact sums (macros/sum_exact.sql): independent of the row order.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): a row of
-- one period reads that period's rows only, but those are reconciled values, which a revision of any
-- single reporter-year moves in every year (int_indicators__flows says why), so a slice would be the
-- whole table.
with

flows as (

    select * from {{ ref('int_indicators__flows') }}
    where product_level in ('segment', 'total')

),

exporter_totals as (

    select freq_code, period_key, product_level, product_code, exporter_code,
        {{ sum_exact('value_usd') }} as exporter_total_usd
    from flows
    group by freq_code, period_key, product_level, product_code, exporter_code

),

importer_totals as (

    select freq_code, period_key, product_level, product_code, importer_code,
        {{ sum_exact('value_usd') }} as importer_total_usd
    from flows
    group by freq_code, period_key, product_level, product_code, importer_code

),

universe_totals as (

    select freq_code, period_key, product_level, product_code,
        {{ sum_exact('value_usd') }} as universe_total_usd
    from flows
    group by freq_code, period_key, product_level, product_code

),

final as (

    select
        f.freq_code,
        f.period_key,
        f.ref_year,
        f.ref_month,
        f.exporter_code,
        f.importer_code,
        f.product_level,
        f.product_code,
        f.value_usd as bilateral_exports_usd,
        x.exporter_total_usd,
        m.importer_total_usd,
        u.universe_total_usd,
        f.origin
    from flows as f
    inner join exporter_totals as x
        on x.freq_code = f.freq_code and x.period_key = f.period_key
        and x.product_level = f.product_level and x.product_code = f.product_code
        and x.exporter_code = f.exporter_code
    inner join importer_totals as m
        on m.freq_code = f.freq_code and m.period_key = f.period_key
        and m.product_level = f.product_level and m.product_code = f.product_code
        and m.importer_code = f.importer_code
    inner join universe_totals as u
        on u.freq_code = f.freq_code and u.period_key = f.period_key
        and u.product_level = f.product_level and u.product_code = f.product_code

)

select
    *,
    (bilateral_exports_usd / nullif(exporter_total_usd, 0))
        / nullif(importer_total_usd / nullif(universe_total_usd, 0), 0) as trade_intensity
from final
