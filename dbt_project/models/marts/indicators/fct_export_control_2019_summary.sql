-- One row per export-controlled product × source (comtrade: Korea's reports to UN Comtrade; kcs: Korea
-- Customs' lines, HSK10 where the seed names one): Korea's imports (as Korea reported them, CIF, US dollars)
-- in the 12 months before and after July 2019 — total, from Japan, from everyone else, Japan's share,
-- the supplier HHI (0–10 000, identified partners) and its change, and the supplier that gained most.
-- Order-independent: exact sums (macros/sum_exact.sql), ties for the top gainer go to the lower code.
with

monthly as (

    select * from {{ ref('fct_export_control_2019_monthly') }}
    where control_window is not null

),

suppliers as (

    select * from {{ ref('fct_export_control_2019_suppliers') }}

),

totals as (

    select
        hs6,
        source,
        product_name,
        product_code_level,
        product_code,
        {{ sum_exact("case when control_window = 'before' then total_imports_usd end") }} as total_before_usd,
        {{ sum_exact("case when control_window = 'after' then total_imports_usd end") }} as total_after_usd,
        {{ sum_exact("case when control_window = 'before' then from_japan_usd end") }} as from_japan_before_usd,
        {{ sum_exact("case when control_window = 'after' then from_japan_usd end") }} as from_japan_after_usd,
        count(*) filter (where control_window = 'before') as n_months_before,
        count(*) filter (where control_window = 'after') as n_months_after,
        max(origin) as origin
    from monthly
    group by hs6, source, product_name, product_code_level, product_code

),

concentration as (

    select
        hs6,
        source,
        {{ ind_hhi('share_before') }} as hhi_before,
        {{ ind_hhi('share_after') }} as hhi_after,
        -- the largest change; of equal changes, the lower M49 code (ties cannot pick differently)
        max_by(supplier_code, (change_usd, -supplier_code)) filter (where not is_japan) as top_gaining_supplier_code,
        max(change_usd) filter (where not is_japan) as top_gaining_supplier_change_usd
    from suppliers
    group by hs6, source

),

final as (

    select
        t.hs6,
        t.source,
        t.product_name,
        t.product_code_level,
        t.product_code,
        t.n_months_before,
        t.n_months_after,
        t.total_before_usd,
        t.total_after_usd,
        t.from_japan_before_usd,
        t.from_japan_after_usd,
        t.total_before_usd - t.from_japan_before_usd as from_others_before_usd,
        t.total_after_usd - t.from_japan_after_usd as from_others_after_usd,
        t.from_japan_before_usd / nullif(t.total_before_usd, 0) as japan_share_before,
        t.from_japan_after_usd / nullif(t.total_after_usd, 0) as japan_share_after,
        t.from_japan_after_usd / nullif(t.total_after_usd, 0)
            - t.from_japan_before_usd / nullif(t.total_before_usd, 0) as japan_share_change,
        c.hhi_before,
        c.hhi_after,
        c.hhi_after - c.hhi_before as hhi_change,
        c.top_gaining_supplier_code,
        c.top_gaining_supplier_change_usd,
        t.origin
    from totals as t
    left join concentration as c
        on c.hs6 = t.hs6 and c.source = t.source

)

select * from final
