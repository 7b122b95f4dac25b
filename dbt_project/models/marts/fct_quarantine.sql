-- The quarantine as a warehouse table: every rejected row with where it came from and why, latest
-- parse only (a vintage's quarantine file is rewritten whole when it is re-parsed).
with

rows as (

    select * from {{ ref('stg_quarantine__rows') }}

),

final as (

    select
        source,
        dataset,
        source_file,
        source_row,
        reason,
        raw,
        origin,
        vintage,
        source_row = -1 as is_whole_file
    from rows

)

select * from final
