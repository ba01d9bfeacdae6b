{#-
    The position of a source kind in the duplicate precedence (var duplicate_source_precedence:
    direct, payment_app, aggregator): 1 survives, higher ranks yield (docs/rules.md#duplicates).
-#}
{% macro source_rank(source_kind) -%}
    list_position({{ var('duplicate_source_precedence') | tojson | replace('"', "'") }}, {{ source_kind }})
{%- endmacro %}
