-- National customs lines (Korea HSK10, Japan HS9) with partners mapped to M49 and values converted
-- to US dollars at the monthly average rate, the rate and its method kept next to every value.
-- Korea publishes US dollars (rate 1); Japan publishes thousand yen: value_usd = value × 1000 × usd_per_jpy,
-- rounded to the cent.
with

kcs as (

    select * from {{ ref('stg_kcs__trade') }}

),

japan as (

    select * from {{ ref('stg_japan__trade') }}

),

kcs_countries as (

    select iso2, m49_code from {{ ref('kcs_country_codes') }}

),

japan_countries as (

    select cast(japan_code as string) as japan_code, m49_code from {{ ref('japan_customs_country_codes') }}

),

jpy as (

    select period_key, usd_per_unit, rate_method, rate_source
    from {{ ref('int_fx__usd_monthly_rates') }}
    where currency = 'JPY'

),

kcs_lines as (

    select
        k.source,
        k.origin,
        k.period_key,
        k.ref_year,
        k.ref_month,
        410 as reporter_code,
        c.m49_code as partner_code,
        k.partner_iso2 as partner_national_code,
        k.flow_code,
        k.hsk10 as national_code,
        'HSK10' as national_code_type,
        k.hs6,
        cast(k.value_usd as double) as value_national,
        'USD' as national_value_unit,
        'USD' as fx_currency,
        cast(1.0 as double) as fx_usd_per_unit,
        'published in US dollars: no conversion' as fx_rate_method,
        cast(null as string) as fx_rate_source,
        round(cast(k.value_usd as double), 2) as value_usd,
        k.net_weight_kg,
        cast(null as string) as release,
        k.source_file,
        k.vintage
    from kcs as k
    left join kcs_countries as c on c.iso2 = k.partner_iso2

),

japan_lines as (

    select
        j.source,
        j.origin,
        j.period_key,
        j.ref_year,
        j.ref_month,
        392 as reporter_code,
        c.m49_code as partner_code,
        j.partner_japan_code as partner_national_code,
        j.flow_code,
        j.hs9 as national_code,
        'HS9' as national_code_type,
        j.hs6,
        cast(j.value_thousand_jpy as double) as value_national,
        'thousand JPY' as national_value_unit,
        'JPY' as fx_currency,
        r.usd_per_unit as fx_usd_per_unit,
        r.rate_method as fx_rate_method,
        r.rate_source as fx_rate_source,
        round(j.value_thousand_jpy * 1000 * r.usd_per_unit, 2) as value_usd,
        j.net_weight_kg,
        j.release,
        j.source_file,
        j.vintage
    from japan as j
    left join japan_countries as c on c.japan_code = j.partner_japan_code
    left join jpy as r on r.period_key = j.period_key

),

unioned as (

    -- kcs_lines and japan_lines list the same columns in the same order
    select * from kcs_lines
    union all
    select * from japan_lines

),

hs_versions as (

    select hs_version, first_year, last_year from {{ ref('hs_versions') }}

),

final as (

    -- the HS edition in force in the line's year (seed hs_versions): the national tariffs follow it
    select
        u.*,
        v.hs_version
    from unioned as u
    left join hs_versions as v on {{ hs_version_in_force('u.ref_year', 'v') }}

)

select * from final
