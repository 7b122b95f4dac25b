{#- Table function for a lateral join, one row per integer from start to stop (none when stop < start): `from x, {{ integer_series('1', 'x.n') }} as t(i)`. -#}
{% macro integer_series(start, stop) -%}
    {{ return(adapter.dispatch('integer_series', 'semitrade')(start, stop)) }}
{%- endmacro %}

{% macro duckdb__integer_series(start, stop) -%}
    unnest(range({{ start }}, ({{ stop }}) + 1))
{%- endmacro %}

{% macro spark__integer_series(start, stop) -%}
    lateral explode(case when ({{ stop }}) >= ({{ start }}) then sequence({{ start }}, {{ stop }}) end)
{%- endmacro %}
