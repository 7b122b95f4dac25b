-- Sample and real data never share a warehouse (ingest/config.py: one home holds one kind). Staging
-- already prefers a published row (origin 'live' or 'imported') over a SYNTHETIC sample row of the same
-- key; this test fails the build when fct_trade_flows or fct_trade_flows_national_detail still hold
-- both sample and non-sample rows (sample rows with keys no published row covers: a mixed home).
-- Returns one row per table that mixes, with its row counts per kind. Reads the origin column only.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_trade_flows'}}}) }}
with

origins as (

    select 'fct_trade_flows' as table_name, origin, count(*) as n_rows
    from {{ ref('fct_trade_flows') }}
    group by origin
    union all
    select 'fct_trade_flows_national_detail', origin, count(*)
    from {{ ref('fct_trade_flows_national_detail') }}
    group by origin

)

select
    table_name,
    sum(n_rows) filter (where origin = 'sample') as sample_rows,
    sum(n_rows) filter (where origin is distinct from 'sample') as non_sample_rows
from origins
group by table_name
having count(*) filter (where origin = 'sample') > 0
   and count(*) filter (where origin is distinct from 'sample') > 0
