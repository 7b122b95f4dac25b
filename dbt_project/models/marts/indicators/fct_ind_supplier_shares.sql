-- One row per frequency × period × importer × product (HS6, segment or total) × supplier: the
-- supplier's share of the importer's imports of that product, from reconciled FOB flows.
with

flows as (

    select * from {{ ref('int_ind_flows') }}

),

final as (

    select
        freq_code,
        period_key,
        ref_year,
        ref_month,
        importer_code,
        product_level,
        product_code,
        segment,
        exporter_code as supplier_code,
        value_usd as imports_usd,
        sum(value_usd) over market as market_imports_usd,
        value_usd / nullif(sum(value_usd) over market, 0) as supplier_share,
        row_number() over (market order by value_usd desc, exporter_code) as supplier_rank,
        origin
    from flows
    window market as (partition by freq_code, period_key, importer_code, product_level, product_code)

)

select * from final
