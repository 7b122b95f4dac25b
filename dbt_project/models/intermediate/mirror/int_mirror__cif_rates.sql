-- One row per exporter × importer × product group (semiconductor segment): the estimated CIF/FOB
-- margin used to convert the importer's CIF report to FOB. Estimated as the median ratio of the
-- importer's CIF report to the exporter's FOB report over every period both reported (annual
-- reports first, monthly reports when there are too few annual ones), then the product group's
-- median over all pairs, then a fixed default; bounded to [0, max]. See the `mirror_method` docs.
{%- set min_annual = var('mirror_cif_min_annual_obs', 3) %}
{%- set min_monthly = var('mirror_cif_min_monthly_obs', 12) %}
{%- set max_rate = var('mirror_cif_max_rate', 0.20) %}
{%- set default_rate = var('mirror_cif_default_rate', 0.05) %}
with

reports as (

    select
        freq_code,
        exporter_code,
        importer_code,
        coalesce(segment, 'unclassified') as product_group,
        export_report_fob_usd,
        import_report_cif_usd,
        reports_available,
        is_hs_version_mismatch
    from {{ ref('int_mirror__reports') }}

),

-- Ratios outside [0.5, 2] are reporting errors or mismatched coverage, not freight and insurance.
ratios as (

    select
        freq_code,
        exporter_code,
        importer_code,
        product_group,
        import_report_cif_usd / export_report_fob_usd as cif_fob_ratio
    from reports
    where reports_available = 'both'
      and not is_hs_version_mismatch
      and export_report_fob_usd > 0
      and import_report_cif_usd > 0
      and import_report_cif_usd / export_report_fob_usd between 0.5 and 2.0

),

by_pair as (

    select
        exporter_code,
        importer_code,
        product_group,
        median(cif_fob_ratio) filter (where freq_code = 'A') as annual_median_ratio,
        count(*) filter (where freq_code = 'A') as n_annual,
        median(cif_fob_ratio) filter (where freq_code = 'M') as monthly_median_ratio,
        count(*) filter (where freq_code = 'M') as n_monthly
    from ratios
    group by all

),

by_group as (

    select
        product_group,
        median(cif_fob_ratio) filter (where freq_code = 'A') as annual_median_ratio,
        count(*) filter (where freq_code = 'A') as n_annual,
        median(cif_fob_ratio) filter (where freq_code = 'M') as monthly_median_ratio,
        count(*) filter (where freq_code = 'M') as n_monthly
    from ratios
    group by all

),

pairs as (

    select distinct exporter_code, importer_code, product_group
    from reports

),

chosen as (

    select
        p.exporter_code,
        p.importer_code,
        p.product_group,
        case
            when bp.n_annual >= {{ min_annual }} then bp.annual_median_ratio - 1
            when bp.n_monthly >= {{ min_monthly }} then bp.monthly_median_ratio - 1
            when bg.n_annual >= {{ min_annual }} then bg.annual_median_ratio - 1
            when bg.n_monthly >= {{ min_monthly }} then bg.monthly_median_ratio - 1
            else {{ default_rate }}
        end as estimated_cif_rate,
        case
            when bp.n_annual >= {{ min_annual }} then 'pair_annual_median'
            when bp.n_monthly >= {{ min_monthly }} then 'pair_monthly_median'
            when bg.n_annual >= {{ min_annual }} then 'group_annual_median'
            when bg.n_monthly >= {{ min_monthly }} then 'group_monthly_median'
            else 'default'
        end as cif_rate_method,
        coalesce(bp.n_annual, 0) as n_annual_observations,
        coalesce(bp.n_monthly, 0) as n_monthly_observations
    from pairs as p
    left join by_pair as bp
        on bp.exporter_code = p.exporter_code
        and bp.importer_code = p.importer_code
        and bp.product_group = p.product_group
    left join by_group as bg
        on bg.product_group = p.product_group

),

final as (

    select
        exporter_code,
        importer_code,
        product_group,
        cast(least(greatest(estimated_cif_rate, 0), {{ max_rate }}) as double) as cif_rate,
        cast(estimated_cif_rate as double) as unbounded_cif_rate,
        estimated_cif_rate < 0 or estimated_cif_rate > {{ max_rate }} as is_cif_rate_bounded,
        cif_rate_method,
        n_annual_observations,
        n_monthly_observations
    from chosen

)

select * from final
