-- National customs lines (Korea Customs `kcs`, Japan MOF `japan_mof`) rolled up to the fact grain
-- (source × reporter × partner × HS6 × month × flow), in US dollars, with the columns of every
-- int_trade_flows__* model (see int_trade_flows__comtrade). One model for every national
-- source: int_national__lines_usd has already brought them to one shape (partner in M49, value in USD).
with

lines as (

    select * from {{ ref('int_national__lines_usd') }}

),

final as (

    select
        source,
        max(origin) as origin,  -- 'sample' as soon as one line is
        'M' as freq_code,
        period_key,
        ref_year,
        ref_month,
        reporter_code,
        partner_code,
        flow_code,
        hs_version,
        hs6,
        -- DOUBLE sums taken exactly (macros/sum_exact.sql): independent of the row order
        {{ sum_exact('value_usd') }} as value_usd,
        case when flow_code = 'M' then 'CIF' else 'FOB' end as valuation,
        case when flow_code = 'M' then {{ sum_exact('value_usd') }} end as cif_value_usd,
        case when flow_code = 'X' then {{ sum_exact('value_usd') }} end as fob_value_usd,
        {{ sum_exact('net_weight_kg') }} as net_weight_kg,
        cast(null as double) as quantity,
        cast(null as string) as quantity_unit,
        false as is_quantity_estimated,
        false as is_net_weight_estimated,
        false as is_value_estimated,
        false as is_aggregate,
        min(source_file) as source_file,
        min(vintage) as vintage
    from lines
    group by source, period_key, ref_year, ref_month, reporter_code, partner_code, flow_code, hs_version, hs6

)

select * from final
