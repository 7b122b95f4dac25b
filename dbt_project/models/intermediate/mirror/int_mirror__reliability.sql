-- One row per frequency × year × country: how far the country's reports sit from its partners'
-- mirror reports, over all products and partners (both directions), and the reporting variance
-- used for the minimum-variance weights. Simplified from BACI (Gaulier & Zignago 2010): instead of
-- a regression of |log discrepancy| on exporter and importer fixed effects, the mean absolute log
-- discrepancy of every double-reported flow the country is party to (imports converted to FOB with
-- the estimated CIF rate, each flow capped at |ln 10|). Countries with too few flows that year take
-- the median over countries; the result is floored so no weight divides by zero.
{%- set min_obs = var('mirror_reliability_min_obs', 10) %}
{%- set floor_value = var('mirror_reliability_floor', 0.01) %}
with

reports as (

    select * from {{ ref('int_mirror__reports') }}
    where reports_available = 'both'
      and not is_hs_version_mismatch
      and export_report_fob_usd > 0
      and import_report_cif_usd > 0

),

cif_rates as (

    select * from {{ ref('int_mirror__cif_rates') }}

),

discrepancies as (

    select
        r.freq_code,
        r.ref_year,
        r.exporter_code,
        r.importer_code,
        least(abs(ln(r.import_report_cif_usd / (1 + c.cif_rate) / r.export_report_fob_usd)), ln(10))
            as abs_log_discrepancy
    from reports as r
    join cif_rates as c
        on c.exporter_code = r.exporter_code
        and c.importer_code = r.importer_code
        and c.product_group = coalesce(r.segment, 'unclassified')

),

by_role as (

    select freq_code, ref_year, exporter_code as country_code, abs_log_discrepancy from discrepancies
    union all
    select freq_code, ref_year, importer_code as country_code, abs_log_discrepancy from discrepancies

),

by_country as (

    select
        freq_code,
        ref_year,
        country_code,
        -- the mean as an exact sum over the count: avg() of DOUBLEs depends on the row order
        {{ sum_exact('abs_log_discrepancy', 20) }} / count(abs_log_discrepancy) as mean_abs_log_discrepancy,
        count(*) as n_flows
    from by_role
    group by all

),

year_median as (

    select
        freq_code,
        ref_year,
        median(mean_abs_log_discrepancy) filter (where n_flows >= {{ min_obs }}) as median_abs_log_discrepancy
    from by_country
    group by all

),

final as (

    select
        c.freq_code,
        c.ref_year,
        c.country_code,
        c.n_flows,
        c.mean_abs_log_discrepancy,
        case when c.n_flows >= {{ min_obs }} or y.median_abs_log_discrepancy is null
            then 'country' else 'year_median_fallback' end as reliability_method,
        greatest(
            case when c.n_flows >= {{ min_obs }} or y.median_abs_log_discrepancy is null
                then c.mean_abs_log_discrepancy else y.median_abs_log_discrepancy end,
            {{ floor_value }}
        ) as reporting_error
    from by_country as c
    left join year_median as y
        on y.freq_code = c.freq_code and y.ref_year = c.ref_year

)

select
    *,
    power(reporting_error, 2) as reporting_variance
from final
