{% macro ind_export_control_products() -%}
    {#- HS6 codes of the three materials under Japan's July 2019 export licensing, with a label.
        392099 (other plastic plates, sheets, film) is a proxy: fluorinated polyimide has no HS6 code of its own. -#}
    {{ return(var('ind_export_control_products', {
        '281111': 'hydrogen fluoride',
        '370790': 'photoresist',
        '392099': 'fluorinated polyimide (proxy: other plastic film)'
    })) }}
{%- endmacro %}
