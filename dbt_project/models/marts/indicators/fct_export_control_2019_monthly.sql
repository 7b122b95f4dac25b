-- One row per export-controlled product (HF 281111, photoresist 370790, fluorinated polyimide proxy
-- 392099) × source × month: Korea's imports as Korea reported them (CIF, US dollars) — to UN Comtrade
-- (source comtrade, HS6) and as Korea Customs published them (source kcs, at the HSK10 line of the
-- semiconductor grade where there is one: product_code_level names the precision) — total (partner
-- World; the sum over partners when the source has no World row, as Korea Customs), from Japan, from
-- everyone else, Japan's share, and the supplier HHI over identified partners.
-- Zero is data: a month a source reports as 0 is a row with 0 (its shares and HHI are null: a share of
-- a 0 total is undefined); a month a source does not report has no row.
-- Sums of DOUBLE values are exact (macros/sum_exact.sql), so the mart does not depend on the order
-- DuckDB's worker threads add the rows in.
with

imports as (

    select * from {{ ref('int_indicators__export_control_imports') }}

),

partners as (

    select hs6, source, period_key, imports_usd, is_japan
    from imports
    where not is_world

),

identified as (

    select hs6, source, period_key, {{ sum_exact('imports_usd') }} as identified_imports_usd
    from partners
    group by hs6, source, period_key

),

bilateral as (

    select
        p.hs6,
        p.source,
        p.period_key,
        p.imports_usd,
        p.is_japan,
        i.identified_imports_usd,
        p.imports_usd / nullif(i.identified_imports_usd, 0) as supplier_share
    from partners as p
    inner join identified as i
        on i.hs6 = p.hs6 and i.source = p.source and i.period_key = p.period_key

),

by_month as (

    select
        hs6,
        source,
        period_key,
        min(identified_imports_usd) as identified_imports_usd,
        coalesce({{ sum_exact('case when is_japan then imports_usd end') }}, 0) as from_japan_usd,
        count(*) filter (where imports_usd > 0) as n_suppliers,
        {{ ind_hhi('supplier_share') }} as supplier_hhi
    from bilateral
    group by hs6, source, period_key

),

periods as (

    select
        hs6,
        source,
        product_name,
        product_code_level,
        product_code,
        period_key,
        ref_year,
        ref_month,
        period_start,
        is_after_2019_export_control,
        control_window,
        {{ sum_exact('case when is_world then imports_usd end') }} as world_imports_usd,
        max(origin) as origin
    from imports
    group by all

),

final as (

    select
        p.hs6,
        p.source,
        p.product_name,
        p.product_code_level,
        p.product_code,
        p.period_key,
        p.ref_year,
        p.ref_month,
        p.period_start,
        p.is_after_2019_export_control,
        p.control_window,
        coalesce(p.world_imports_usd, b.identified_imports_usd) as total_imports_usd,
        coalesce(b.from_japan_usd, 0) as from_japan_usd,
        coalesce(p.world_imports_usd, b.identified_imports_usd) - coalesce(b.from_japan_usd, 0) as from_others_usd,
        coalesce(b.from_japan_usd, 0) / nullif(coalesce(p.world_imports_usd, b.identified_imports_usd), 0) as japan_share,
        b.identified_imports_usd,
        coalesce(p.world_imports_usd, b.identified_imports_usd) - coalesce(b.identified_imports_usd, 0) as unallocated_usd,
        coalesce(b.n_suppliers, 0) as n_suppliers,
        b.supplier_hhi,
        p.world_imports_usd is null as is_total_from_partners,
        p.origin
    from periods as p
    left join by_month as b
        on b.hs6 = p.hs6 and b.source = p.source and b.period_key = p.period_key

)

select * from final
