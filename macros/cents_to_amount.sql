{#-
    Integer cents as DECIMAL(18,2). Multiplying by 0.01 keeps DuckDB in exact decimal arithmetic;
    dividing by 100 would silently produce a DOUBLE.
-#}
{% macro cents_to_amount(cents) -%}
    cast({{ cents }} * 0.01 as decimal(18, 2))
{%- endmacro %}
