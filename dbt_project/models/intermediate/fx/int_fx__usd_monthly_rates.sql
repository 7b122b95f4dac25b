-- US dollars per unit of each currency per month, as a cross rate through the euro:
-- usd_per_unit = (USD per EUR) / (currency per EUR), both ECB monthly averages. When both the live
-- ECB series and the bundled daily history cover a month, the live ECB average wins.
with

rates as (

    select *
    from {{ ref('stg_fx__monthly_rates') }}
    qualify row_number() over (
        partition by period_key, currency
        -- rate_source breaks the tie between two non-API sources (at most one row per source here)
        order by case rate_source when 'ecb_api' then 0 else 1 end, rate_source
    ) = 1

),

usd as (

    select period_key, ccy_per_eur as usd_per_eur from rates where currency = 'USD'

),

final as (

    select
        r.period_key,
        r.currency,
        r.ccy_per_eur,
        u.usd_per_eur,
        u.usd_per_eur / r.ccy_per_eur as usd_per_unit,
        r.rate_source,
        r.rate_method
    from rates as r
    inner join usd as u on u.period_key = r.period_key

)

select * from final
