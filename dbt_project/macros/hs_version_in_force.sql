{% macro hs_version_in_force(year, versions) -%}
    {#- Join predicate: the row of the hs_versions seed (alias `versions`) whose years include `year`,
        e.g. `left join {{ ref('hs_versions') }} as v on {{ hs_version_in_force('x.ref_year', 'v') }}`.
        The one statement of "which HS edition is in force in a year" (Python reads the same seed:
        ingest.reference.hs_version_for_year). No row, hence null, for a year before the first edition. -#}
    {{ year }} >= {{ versions }}.first_year
    and ({{ versions }}.last_year is null or {{ year }} <= {{ versions }}.last_year)
{%- endmacro %}
