{#-
    The 1-based position of the first condition that holds, as one CASE (null when none holds or
    there are no conditions): the first matching rule or lookup row wins
    (docs/rules.md#sharing-rules).
-#}
{% macro first_true_position(conditions) -%}
{%- if conditions -%}
case
{%- for condition in conditions %}
    when {{ condition }} then {{ loop.index }}
{%- endfor %}
end
{%- else -%}
cast(null as bigint)
{%- endif -%}
{%- endmacro %}
