-- Rejected rows of every source, as the parsers kept them in $SEMITRADE_HOME/lake/_quarantine/<source>/
-- <dataset>/<partition>/vintage=<sha>.parquet (written by each source's lake asset, same schema).
-- The folder may hold no file (a clean run): macro lake_quarantine_relation (macros/spark/lake.sql) says
-- where to read it on each engine, or none, and then the model selects an empty, typed set. No dbt
-- source: a source would need its own Dagster asset key, and the quarantine is written by several lake
-- assets (the dbt assets run after all of them).
{%- set quarantine = lake_quarantine_relation() %}
with

source as (

    {% if quarantine -%}
    select
        source,
        dataset,
        source_file,
        source_row,
        reason,
        raw,
        origin,
        vintage
    from {{ quarantine }}
    {%- else -%}
    select
        cast(null as string) as source,
        cast(null as string) as dataset,
        cast(null as string) as source_file,
        cast(null as integer) as source_row,
        cast(null as string) as reason,
        cast(null as string) as raw,
        cast(null as string) as origin,
        cast(null as string) as vintage
    where false
    {%- endif %}

),

renamed as (

    select
        source,
        dataset,
        source_file,
        cast(source_row as integer) as source_row,
        reason,
        raw,
        origin,
        vintage
    from source

)

select * from renamed
