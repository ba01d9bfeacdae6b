{#-
    Integer cents as text like `$1,234.56` (sign dropped): for sentences such as
    "Sam owes Alex $123.45". Integer arithmetic only, so no rounding can creep in.
-#}
{% macro format_dollars(cents) -%}
    '$' || format('{:,}', abs({{ cents }}) // 100) || '.' || lpad(cast(abs({{ cents }}) % 100 as varchar), 2, '0')
{%- endmacro %}
