-- Rejected rows of every source, as the parsers kept them in $SEMITRADE_HOME/lake/_quarantine/<source>/
-- <dataset>/<partition>/vintage=<sha>.parquet (written by each source's lake asset, same schema).
-- The folder may hold no file (a clean run) and read_parquet fails on a glob that matches nothing, so
-- the model checks for files first (DuckDB's glob() returns no row instead of failing) and otherwise
-- selects an empty, typed set. No dbt source: a source would need its own Dagster asset key, and the
-- quarantine is written by several lake assets (the dbt assets run after all of them).
{%- set quarantine_glob = env_var('SEMITRADE_HOME', '../data') ~ '/lake/_quarantine/**/*.parquet' %}
{%- set has_files = false %}
{%- if execute %}
    {%- set found = run_query("select count(*) from glob('" ~ (quarantine_glob | replace("'", "''")) ~ "')") %}
    {%- set has_files = found.columns[0].values()[0] > 0 %}
{%- endif %}
with

source as (

    {% if has_files -%}
    select
        source,
        dataset,
        source_file,
        source_row,
        reason,
        raw,
        origin,
        vintage
    from read_parquet('{{ quarantine_glob | replace("'", "''") }}', union_by_name = true)
    {%- else -%}
    select
        cast(null as varchar) as source,
        cast(null as varchar) as dataset,
        cast(null as varchar) as source_file,
        cast(null as integer) as source_row,
        cast(null as varchar) as reason,
        cast(null as varchar) as raw,
        cast(null as varchar) as origin,
        cast(null as varchar) as vintage
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
