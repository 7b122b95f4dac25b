-- One row per frequency × period × exporter → importer × product level × product code: the
-- reconciled FOB value (fct_reconciled_flows) summed to three product levels so every indicator
-- reads one shape: 'hs6' (code = the HS6 code), 'segment' (materials, equipment, devices) and
-- 'total' (code 'all': every covered semiconductor product). Values in US dollars, FOB.
-- Covered products only: a flow whose HS6 code is outside the semiconductor taxonomy (segment null
-- in fct_reconciled_flows, which reconciles every product) is left out of every level.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): a row of
-- year Y is not a function of the fact's rows of Y. reconciled_value_usd converts the importer's report
-- with the pair's CIF rate (int_mirror__cif_rates), a median over EVERY period the pair reported, else
-- the product group's median over all pairs and periods, and weights the two reports by reliabilities
-- (per frequency × year, but computed with those rates). A revised reporter-year therefore moves rows of
-- every year: on the 10M-row benchmark one revision moved 31 % of the CIF rates and 39 % of the
-- reliabilities (macros/replace_slices.sql), so re-deriving the changed rows would be the whole table.
with

flows as (

    select
        freq_code,
        period_key,
        ref_year,
        ref_month,
        exporter_code,
        importer_code,
        hs6,
        segment,
        reconciled_value_usd,
        origin
    from {{ ref('fct_reconciled_flows') }}
    where segment is not null

),

levels as (

    select freq_code, period_key, ref_year, ref_month, exporter_code, importer_code,
        'hs6' as product_level, hs6 as product_code, segment, reconciled_value_usd, origin
    from flows
    union all
    select freq_code, period_key, ref_year, ref_month, exporter_code, importer_code,
        'segment', segment, segment, reconciled_value_usd, origin
    from flows
    union all
    select freq_code, period_key, ref_year, ref_month, exporter_code, importer_code,
        'total', 'all', null, reconciled_value_usd, origin
    from flows

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
        min(segment) as segment,
        -- exact sum (macros/sum_exact.sql): the same total whatever order the worker threads add in
        {{ sum_exact('reconciled_value_usd') }} as value_usd,
        max(origin) as origin
    from levels
    group by freq_code, period_key, ref_year, ref_month, exporter_code, importer_code, product_level, product_code

)

select * from final
