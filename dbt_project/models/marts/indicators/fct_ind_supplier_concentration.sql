-- One row per frequency × period × importer × product (HS6, segment or total): how concentrated
-- the importer's suppliers are — Herfindahl–Hirschman index on the 0–10 000 scale, the number of
-- suppliers, the equivalent number of equal suppliers, and the top supplier.
-- Order-independent: exact sums (macros/sum_exact.sql); supplier_rank has no ties, so the top
-- supplier is one code.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): it reads
-- fct_ind_supplier_shares, reconciled values that a revision of any single reporter-year moves in every
-- year (int_indicators__flows says why), so a slice would be the whole table.
with

shares as (

    select * from {{ ref('fct_ind_supplier_shares') }}

),

final as (

    select
        freq_code,
        period_key,
        min(ref_year) as ref_year,
        min(ref_month) as ref_month,
        importer_code,
        product_level,
        product_code,
        min(segment) as segment,
        {{ sum_exact('imports_usd') }} as imports_usd,
        count(*) filter (where imports_usd > 0) as n_suppliers,
        {{ ind_hhi('supplier_share') }} as hhi,
        10000 / nullif({{ ind_hhi('supplier_share') }}, 0) as equivalent_n_suppliers,
        min_by(supplier_code, supplier_rank) as top_supplier_code,
        max(supplier_share) as top_supplier_share,
        max(origin) as origin
    from shares
    group by freq_code, period_key, importer_code, product_level, product_code

)

select * from final
