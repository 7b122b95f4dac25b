{% macro ind_corridor() -%}
    {#- The Korea–Japan corridor as M49 codes: home = Korea (410), partner = Japan (392).
        Override with --vars '{ind_corridor: {home: ..., partner: ...}}'. -#}
    {{ return(var('ind_corridor', {'home': 410, 'partner': 392})) }}
{%- endmacro %}
