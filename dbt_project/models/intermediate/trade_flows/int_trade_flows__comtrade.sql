-- Comtrade records at the fact grain: totals over partner2, customs procedure and mode of
-- transport only (breakdown rows would double count), HS6 rows only (TOTAL/HS2/HS4 rows are
-- aggregates of the same trade). Columns are the shared shape of every int_trade_flows__* model.
-- A view on both targets: the incremental fact reads only the lake partitions it re-derives (dbt_project.yml).
{{ config(materialized='view') }}
with

records as (

    select * from {{ ref('stg_comtrade__records') }}
    where aggr_level = 6
      and partner2_code = 0
      and customs_code = 'C00'
      and mot_code = 0

),

final as (

    select
        source,
        origin,
        freq_code,
        period as period_key,
        ref_year,
        ref_month,
        reporter_code,
        partner_code,
        flow_code,
        hs_version,
        cmd_code as hs6,
        primary_value as value_usd,
        case when flow_code in ('M', 'FM', 'MIP', 'MOP', 'RM') then 'CIF' else 'FOB' end as valuation,
        cif_value as cif_value_usd,
        fob_value as fob_value_usd,
        net_wgt as net_weight_kg,
        qty as quantity,
        case when qty is not null then qty_unit_abbr end as quantity_unit,
        coalesce(is_qty_estimated, false) as is_quantity_estimated,
        coalesce(is_net_wgt_estimated, false) as is_net_weight_estimated,
        legacy_estimation_flag <> 0 or not coalesce(is_reported, true) as is_value_estimated,
        partner_code = 0 or coalesce(is_aggregate, false) as is_aggregate,
        source_file,
        vintage
    from records

)

select * from final
