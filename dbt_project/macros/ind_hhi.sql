{% macro ind_hhi(share_expression) -%}
    {#- Herfindahl–Hirschman index on the 0–10 000 scale from shares given as fractions (0–1):
        10 000 × Σ share². Use as an aggregate over the suppliers of one market. An exact sum
        (sum_exact, 20 decimals): the same for any row order, so for any number of DuckDB threads. -#}
    10000 * {{ sum_exact('power(' ~ share_expression ~ ', 2)', 20) }}
{%- endmacro %}
