-- One row per export-controlled product × source × supplier: Korea's imports (as Korea reported them,
-- CIF, US dollars; source comtrade = Korea's reports to UN Comtrade, kcs = Korea Customs' lines) in the
-- 12 months before (July 2018 – June 2019) and after (July 2019 – June 2020)
-- Japan's export controls, each supplier's share of identified imports, and where the substitution
-- came from: each non-Japanese supplier's part of the change in non-Japanese imports and of Japan's fall.
-- Sums of DOUBLE values are exact (macros/sum_exact.sql): independent of the row order.
{%- set corridor = ind_corridor() %}
with

imports as (

    select * from {{ ref('int_indicators__export_control_imports') }}
    where control_window is not null
      and not is_world

),

windows as (

    select
        hs6,
        source,
        product_name,
        product_code_level,
        product_code,
        partner_code as supplier_code,
        is_japan,
        coalesce({{ sum_exact("case when control_window = 'before' then imports_usd end") }}, 0) as imports_before_usd,
        coalesce({{ sum_exact("case when control_window = 'after' then imports_usd end") }}, 0) as imports_after_usd,
        max(origin) as origin
    from imports
    group by hs6, source, product_name, product_code_level, product_code, partner_code, is_japan

),

product_totals as (

    select
        hs6,
        source,
        {{ sum_exact('imports_before_usd') }} as identified_before_usd,
        {{ sum_exact('imports_after_usd') }} as identified_after_usd,
        {{ sum_exact('case when not is_japan then imports_after_usd - imports_before_usd end') }} as non_japan_change_usd,
        {{ sum_exact('case when is_japan then imports_after_usd - imports_before_usd end') }} as japan_change_usd
    from windows
    group by hs6, source

),

changes as (

    select
        w.*,
        w.imports_after_usd - w.imports_before_usd as change_usd,
        w.imports_before_usd / nullif(t.identified_before_usd, 0) as share_before,
        w.imports_after_usd / nullif(t.identified_after_usd, 0) as share_after,
        t.non_japan_change_usd,
        t.japan_change_usd
    from windows as w
    inner join product_totals as t on t.hs6 = w.hs6 and t.source = w.source

),

final as (

    select
        c.hs6,
        c.source,
        c.product_name,
        c.product_code_level,
        c.product_code,
        c.supplier_code,
        d.display_name as supplier_name,
        c.is_japan,
        c.imports_before_usd,
        c.imports_after_usd,
        c.change_usd,
        c.share_before,
        c.share_after,
        c.share_after - c.share_before as share_change,
        case when not c.is_japan and c.non_japan_change_usd > 0
            then c.change_usd / c.non_japan_change_usd end as share_of_non_japan_increase,
        case when not c.is_japan and c.japan_change_usd < 0
            then c.change_usd / -c.japan_change_usd end as offset_of_japan_decline,
        c.origin
    from changes as c
    left join {{ ref('dim_country') }} as d
        on d.m49_code = c.supplier_code

)

select * from final
