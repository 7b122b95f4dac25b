-- One row per period: every month and every year from var('first_year') to var('last_year').
-- period_key is YYYYMM for months and YYYY for years, as Comtrade writes `period`. Flags mark the
-- July 2019 Japanese export controls; hs_version_in_force is the HS edition in force that year (seed hs_versions).
with

years as (

    select cast(y as integer) as year
    from range({{ var('first_year', 1990) }}, {{ var('last_year', 2030) }} + 1) as t(y)

),

months as (

    select
        cast(year * 100 + m as string) as period_key,
        'M' as freq_code,
        year,
        cast(m as integer) as month,
        cast(floor((m - 1) / 3) + 1 as integer) as quarter,
        make_date(year, cast(m as integer), 1) as period_start,
        last_day(make_date(year, cast(m as integer), 1)) as period_end
    from years, range(1, 13) as t(m)

),

annual as (

    select
        cast(year as string) as period_key,
        'A' as freq_code,
        year,
        cast(null as integer) as month,
        cast(null as integer) as quarter,
        make_date(year, 1, 1) as period_start,
        make_date(year, 12, 31) as period_end
    from years

),

hs_versions as (

    select hs_version, first_year, last_year from {{ ref('hs_versions') }}

),

final as (

    select
        p.*,
        -- Japan's export licensing on HF, photoresist and fluorinated polyimide: from 4 July 2019.
        p.period_start >= date '2019-07-01' as is_after_2019_export_control,
        p.freq_code = 'M' and p.period_start between date '2018-07-01' and date '2020-06-30'
            as is_2019_export_control_window,
        -- HS edition in force on 1 January of the year (seed hs_versions: WCO entry-into-force
        -- dates; null before 1988); reporters may lag.
        v.hs_version as hs_version_in_force,
        case when p.quarter is not null then cast(p.year as string) || '-Q' || cast(p.quarter as string) end as quarter_label
    from (select * from months union all select * from annual) as p
    left join hs_versions as v on {{ hs_version_in_force('p.year', 'v') }}

)

select * from final
