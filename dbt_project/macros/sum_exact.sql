{% macro sum_exact(expr, scale=10) -%}
    {#- The sum of a DOUBLE expression taken exactly, so that it does not depend on the order the rows
        are added in: every term is cast to DECIMAL(38, scale) (rounded at 10^-scale, far below a cent
        or a share's last useful digit), summed in 128-bit integers, and the total cast back to DOUBLE.
        DuckDB runs with several worker threads (profiles.yml); a plain sum() of DOUBLEs then adds the
        partial sums of each thread in whatever order they finish, and two builds of the same lake
        differ in the last bits. Null terms are skipped and an all-null or empty sum is null, as sum().
        An aggregate only: `cast(...)` cannot be followed by `over (...)` or `filter (...)`; take a
        window total as a grouped sum joined back, and a filtered sum as sum_exact('case when c then x end'). -#}
    cast(sum(cast({{ expr }} as decimal(38, {{ scale }}))) as double)
{%- endmacro %}
