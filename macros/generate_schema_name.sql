{#-
    Use each folder's schema name as it is (staging, intermediate, marts, shipped) instead of dbt's
    default "<target schema>_<custom schema>", so that SQL users query `marts.fct_transactions`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
