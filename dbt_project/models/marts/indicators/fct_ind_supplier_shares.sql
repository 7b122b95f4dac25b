-- One row per frequency × period × importer × product (HS6, segment or total) × supplier: the
-- supplier's share of the importer's imports of that product, from reconciled FOB flows.
-- The market total is an exact sum (macros/sum_exact.sql) and the rank breaks value ties by the
-- supplier code, so the mart does not depend on the order DuckDB's worker threads see the rows in.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): a row of
-- one period reads that period's rows only, but those are reconciled values, which a revision of any
-- single reporter-year moves in every year (int_indicators__flows says why), so a slice would be the
-- whole table.
with

flows as (

    select * from {{ ref('int_indicators__flows') }}

),

markets as (

    select
        freq_code,
        period_key,
        importer_code,
        product_level,
        product_code,
        {{ sum_exact('value_usd') }} as market_imports_usd
    from flows
    group by freq_code, period_key, importer_code, product_level, product_code

),

final as (

    select
        f.freq_code,
        f.period_key,
        f.ref_year,
        f.ref_month,
        f.importer_code,
        f.product_level,
        f.product_code,
        f.segment,
        f.exporter_code as supplier_code,
        f.value_usd as imports_usd,
        m.market_imports_usd,
        f.value_usd / nullif(m.market_imports_usd, 0) as supplier_share,
        row_number() over (
            partition by f.freq_code, f.period_key, f.importer_code, f.product_level, f.product_code
            order by f.value_usd desc, f.exporter_code
        ) as supplier_rank,
        f.origin
    from flows as f
    inner join markets as m
        on m.freq_code = f.freq_code
        and m.period_key = f.period_key
        and m.importer_code = f.importer_code
        and m.product_level = f.product_level
        and m.product_code = f.product_code

)

select * from final
