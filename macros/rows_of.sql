{#-
    The rows of a query, read while dbt runs the model (none while it only parses, and none in a
    dbt unit test, whose inputs are its own given rows).

    Used to write the household's regex patterns into a model as constants: DuckDB compiles a
    constant pattern once, but a pattern read from a column once per row, which made rule
    matching over 100,000 transactions take half a minute.
-#}
{% macro rows_of(query) -%}
    {#- A unit test replaces refs with its own rows, which the warehouse does not hold. -#}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {{ return(run_query(query).rows) }}
    {%- else -%}
        {{ return([]) }}
    {%- endif -%}
{%- endmacro %}
