-- Annual Comtrade totals vs the sum of the twelve monthly ones (a warning: reporters revise, book
-- shipments in different months, and estimate differently, so some gap is normal). Compared at the
-- reporter's total (partner World) per flow and year, where both the annual and all twelve monthly
-- periods are in the marts. Returns the reporter-flow-years whose gap exceeds
-- var('annual_vs_monthly_tolerance') (a share of the annual value, default 5 %), with the gap.
{{ config(severity='warn') }}
with

world as (

    select reporter_code, flow_code, ref_year, freq_code, period_key, value_usd
    from {{ ref('fct_trade_flows') }}
    where source = 'comtrade' and partner_code = 0

),

annual as (

    select reporter_code, flow_code, ref_year, {{ sum_exact('value_usd') }} as annual_usd
    from world
    where freq_code = 'A'
    group by 1, 2, 3

),

monthly as (

    select reporter_code, flow_code, ref_year, {{ sum_exact('value_usd') }} as monthly_usd, count(distinct period_key) as months
    from world
    where freq_code = 'M'
    group by 1, 2, 3

)

select
    a.reporter_code,
    a.flow_code,
    a.ref_year,
    a.annual_usd,
    m.monthly_usd,
    m.monthly_usd - a.annual_usd as gap_usd,
    (m.monthly_usd - a.annual_usd) / nullif(a.annual_usd, 0) as gap_share
from annual as a
inner join monthly as m using (reporter_code, flow_code, ref_year)
where m.months = 12
    and abs(m.monthly_usd - a.annual_usd) > {{ var('annual_vs_monthly_tolerance', 0.05) }} * abs(a.annual_usd)
