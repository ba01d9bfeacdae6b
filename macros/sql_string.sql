{#-
    A Python/Jinja value as a SQL string literal: 'it''s' — for patterns read from the household's
    tables and written into SQL as constants (see rows_of).
-#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
