{#-
    Generic test: the given columns together identify each row (none null, no two rows alike),
    and the `not_null` columns are never null. One test per model instead of one per column:
    each test is a dbt node, and a node costs more than its query on a household's data.
    Fails with what is wrong, the key values and how many rows.
-#}
{% test primary_key(model, columns, not_null=[]) %}
    {%- set key_text -%}
        concat_ws(', ', {% for column in columns %}{{ column }}::varchar{{ ', ' if not loop.last }}{% endfor %})
    {%- endset %}
    select
        'repeated or null key' as problem,
        {{ key_text }} as key_values,
        count(*) as failing_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
        {% for column in columns %} or {{ column }} is null{% endfor %}
    {%- if not_null %}
    union all
    select
        'null ' || concat_ws(', '{% for column in not_null %}, case when {{ column }} is null then '{{ column }}' end{% endfor %}) as problem,
        {{ key_text }} as key_values,
        1 as failing_rows
    from {{ model }}
    where {% for column in not_null %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
    {%- endif %}
{% endtest %}
