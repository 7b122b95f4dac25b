-- Monthly average rates (units per euro), latest vintage per rate source × month × currency.
with

source as (

    select * from {{ source('fx', 'monthly_rates') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by rate_source, period, currency
        -- the remaining columns break ties (a rate listed twice in one fetch), so the same row wins
        -- whatever order the worker threads deliver the rows in; nulls last as DuckDB's default, on
        -- every engine (Spark sorts them first)
        order by fetched_at desc, vintage desc, source_file, ccy_per_eur, observations nulls last, method nulls last
    ) = 1

)

select
    period as period_key,
    currency,
    ccy_per_eur,
    observations,
    rate_source,
    method as rate_method,
    source_file,
    vintage,
    fetched_at
from latest
