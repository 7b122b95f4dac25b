-- One row per frequency × period × segment (plus 'all'): Korea's trade with Japan in covered
-- semiconductor products — reconciled FOB exports and imports and the balance, next to what each
-- side's customs reported. Korea and Japan are the `ind_corridor()` codes (410 and 392 by default).
-- Covered products only (segment not null): codes outside the taxonomy are not in any segment or in
-- 'all'. Sums of DOUBLE values are exact (macros/sum_exact.sql): independent of the row order.
--
-- A table rebuilt whole at every build, not incremental by slice (macros/replace_slices.sql): its
-- reconciled values (fct_reconciled_flows) convert imports with CIF rates that are medians over every
-- period of a pair and over all pairs of a product group, so a revision of any single reporter-year
-- moves the rows of every year (int_indicators__flows says more); a slice would be the whole table.
{%- set corridor = ind_corridor() %}
with

flows as (

    select
        freq_code,
        period_key,
        ref_year,
        ref_month,
        exporter_code,
        importer_code,
        segment,
        export_report_fob_usd,
        import_report_cif_usd,
        reconciled_value_usd,
        origin
    from {{ ref('fct_reconciled_flows') }}
    where ((exporter_code = {{ corridor.home }} and importer_code = {{ corridor.partner }})
       or (exporter_code = {{ corridor.partner }} and importer_code = {{ corridor.home }}))
      and segment is not null

),

scoped as (

    select *, segment as product_code from flows
    union all
    select *, 'all' from flows

),

final as (

    select
        freq_code,
        period_key,
        min(ref_year) as ref_year,
        min(ref_month) as ref_month,
        product_code as segment,
        {{ corridor.home }} as home_code,
        {{ corridor.partner }} as partner_code,
        coalesce({{ sum_exact('case when exporter_code = ' ~ corridor.home ~ ' then reconciled_value_usd end') }}, 0) as exports_usd,
        coalesce({{ sum_exact('case when exporter_code = ' ~ corridor.partner ~ ' then reconciled_value_usd end') }}, 0) as imports_usd,
        {{ sum_exact('case when exporter_code = ' ~ corridor.home ~ ' then export_report_fob_usd end') }} as home_reported_exports_fob_usd,
        {{ sum_exact('case when importer_code = ' ~ corridor.home ~ ' then import_report_cif_usd end') }} as home_reported_imports_cif_usd,
        {{ sum_exact('case when exporter_code = ' ~ corridor.partner ~ ' then export_report_fob_usd end') }} as partner_reported_exports_fob_usd,
        {{ sum_exact('case when importer_code = ' ~ corridor.partner ~ ' then import_report_cif_usd end') }} as partner_reported_imports_cif_usd,
        max(origin) as origin
    from scoped
    group by freq_code, period_key, product_code

)

select
    *,
    exports_usd - imports_usd as balance_usd
from final
