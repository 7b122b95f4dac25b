-- One row per frequency × period × economy × partner × product (HS6, segment or total): the
-- Grubel–Lloyd index of intra-industry trade between the two, from reconciled FOB flows.
-- HS6: GL = 1 − |X − M| / (X + M). Segment and total: the aggregate index over the HS6 codes of
-- the group, 1 − Σ_k |X_k − M_k| / Σ_k (X_k + M_k) (not adjusted for the overall trade imbalance).
-- 0 = one-way trade only, 1 = exports equal imports product by product.
-- Sums of DOUBLE values are exact (macros/sum_exact.sql): independent of the row order.
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

-- Each flow seen from both ends: exports of the exporter, imports of the importer.
sides as (

    select freq_code, period_key, ref_year, ref_month, exporter_code as country_code,
        importer_code as partner_code, product_code as hs6, segment, value_usd as exports_usd,
        0.0 as imports_usd, origin
    from flows
    union all
    select freq_code, period_key, ref_year, ref_month, importer_code, exporter_code, product_code,
        segment, 0.0, value_usd, origin
    from flows

),

cells as (

    select
        freq_code, period_key, min(ref_year) as ref_year, min(ref_month) as ref_month,
        country_code, partner_code, hs6, min(segment) as segment,
        {{ sum_exact('exports_usd') }} as exports_usd, {{ sum_exact('imports_usd') }} as imports_usd,
        max(origin) as origin
    from sides
    group by freq_code, period_key, country_code, partner_code, hs6

),

levels as (

    select *, 'hs6' as product_level, hs6 as product_code from cells
    union all
    select *, 'segment', segment from cells
    union all
    select *, 'total', 'all' from cells

),

final as (

    select
        freq_code,
        period_key,
        min(ref_year) as ref_year,
        min(ref_month) as ref_month,
        country_code,
        partner_code,
        product_level,
        product_code,
        {{ sum_exact('exports_usd') }} as exports_usd,
        {{ sum_exact('imports_usd') }} as imports_usd,
        {{ sum_exact('abs(exports_usd - imports_usd)') }} as sum_abs_net_trade_usd,
        1 - {{ sum_exact('abs(exports_usd - imports_usd)') }}
            / nullif({{ sum_exact('exports_usd + imports_usd') }}, 0) as grubel_lloyd,
        max(origin) as origin
    from levels
    group by freq_code, period_key, country_code, partner_code, product_level, product_code

)

select * from final
