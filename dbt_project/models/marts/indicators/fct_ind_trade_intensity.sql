-- One row per frequency × period × exporter → importer × product scope (segment or total): the
-- trade intensity index — the share of the exporter's covered exports that go to the importer,
-- divided by the share of all sample economies' covered exports that go to the importer
-- (> 1: the pair trades more than the importer's weight in the universe would predict).
with

flows as (

    select * from {{ ref('int_ind_flows') }}
    where product_level in ('segment', 'total')

),

final as (

    select
        freq_code,
        period_key,
        ref_year,
        ref_month,
        exporter_code,
        importer_code,
        product_level,
        product_code,
        value_usd as bilateral_exports_usd,
        sum(value_usd) over (partition by freq_code, period_key, product_level, product_code, exporter_code)
            as exporter_total_usd,
        sum(value_usd) over (partition by freq_code, period_key, product_level, product_code, importer_code)
            as importer_total_usd,
        sum(value_usd) over (partition by freq_code, period_key, product_level, product_code)
            as universe_total_usd,
        origin
    from flows

)

select
    *,
    (bilateral_exports_usd / nullif(exporter_total_usd, 0))
        / nullif(importer_total_usd / nullif(universe_total_usd, 0), 0) as trade_intensity
from final
