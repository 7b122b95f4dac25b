-- Comtrade records at the fact grain: totals over partner2, customs procedure and mode of
-- transport only (breakdown rows would double count), HS6 rows only (TOTAL/HS2/HS4 rows are
-- aggregates of the same trade). Columns are the shared shape of every int_trade_flows__* model.
-- The SQL is macros/comtrade_records.sql (int_trade_flows_comtrade_sql), which an incremental DuckDB
-- build of fct_trade_flows also applies to the lake files of the partitions it re-derives.
-- A view on both targets: the incremental fact reads only the lake partitions it re-derives (dbt_project.yml).
{{ config(materialized='view') }}
{{ int_trade_flows_comtrade_sql(ref('stg_comtrade__records')) }}
