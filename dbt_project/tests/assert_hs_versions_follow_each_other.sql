-- The hs_versions seed states one edition per year without gap or overlap: ordered by first_year,
-- each edition ends the year before the next begins, only the last is open (last_year null), and
-- the codes follow H0 → H6 in that order. Returns the rows that break this.
with

versions as (

    select
        hs_version,
        first_year,
        last_year,
        lead(first_year) over (order by first_year) as next_first_year,
        lag(hs_version) over (order by first_year) as previous_version
    from {{ ref('hs_versions') }}

)

select *
from versions
where (next_first_year is null and last_year is not null)
    or (next_first_year is not null and (last_year is null or last_year <> next_first_year - 1))
    or last_year < first_year
    or (previous_version is not null and previous_version >= hs_version)
