-- The latest published vintage of every Comtrade record (or the one current on var('as_of')).
-- A record key is reporter × partner × partner2 × flow × product × period × customs × mode of
-- transport; when several landed files hold it, a published one (origin 'live' or 'imported') wins
-- over a SYNTHETIC sample one, then the most recently fetched one.
-- The SQL is macros/comtrade_records.sql (stg_comtrade_records_sql), which an incremental DuckDB build
-- of fct_trade_flows also applies to the lake files of the partitions it re-derives.
-- A view on both targets: the incremental fact reads only the lake partitions it re-derives (dbt_project.yml).
{{ config(materialized='view') }}
{{ stg_comtrade_records_sql(source('comtrade', 'records')) }}
