-- Japan MOF lines: one row per month × direction × HS9 × country (ports summed). MOF publishes a whole
-- year × direction table at each release (preliminary, then confirmed), so the latest landed file for
-- a year × direction replaces the earlier ones as a whole. Values in thousand yen, rounded down by MOF.
with

source as (

    {{ gated_source('japan', 'trade') }}

),

latest_file as (

    select *
    from source
    qualify vintage = first_value(vintage) over (
        partition by ref_year, direction
        -- a published file (origin 'live' or 'imported') wins over a SYNTHETIC sample one whatever
        -- their fetch times (a home holds one kind only: defence in depth), then the latest
        order by case when origin = 'sample' then 1 else 0 end, fetched_at desc, vintage desc
    )

),

summed as (

    select
        origin,
        period,
        ref_year,
        ref_month,
        flow_code,
        hs9,
        hs6,
        country_code,
        -- min(): the same whichever worker thread sees which port first (the unit of an HS9 code does
        -- not change between ports, and one vintage is one file, but nothing here enforces either)
        min(unit1) as unit1,
        min(unit2) as unit2,
        -- quantities are DOUBLE: summed exactly, so the total does not depend on the row order
        {{ sum_exact('quantity1') }} as quantity1,
        {{ sum_exact('quantity2') }} as quantity2,
        sum(value_thousand_jpy) as value_thousand_jpy,
        min(release) as release,
        min(source_file) as source_file,
        -- one vintage per year × direction (latest_file), so every row of the group has this one
        any_value(vintage) as vintage,
        min(fetched_at) as fetched_at
    from latest_file
    group by all

),

renamed as (

    select
        'japan_mof' as source,
        origin,
        period as period_key,
        ref_year,
        ref_month,
        country_code as partner_japan_code,
        flow_code,
        hs9,
        hs6,
        value_thousand_jpy,
        case
            when unit2 = 'KG' then quantity2
            when unit1 = 'KG' then quantity1
            when unit2 = 'MT' then quantity2 * 1000
            when unit1 = 'MT' then quantity1 * 1000
        end as net_weight_kg,
        unit1,
        quantity1,
        unit2,
        quantity2,
        release,
        source_file,
        vintage,
        fetched_at
    from summed

)

select * from renamed
