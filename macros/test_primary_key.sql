{#-
    Generic test: the given columns together identify each row (none null, no two rows alike),
    the `not_null` columns are never null, each `accepted_values` column holds only its listed
    values (or null), and each `unique` column repeats no value. One test per model instead of
    one per column: each test is a dbt node, and a node costs more than its query on a
    household's data. Fails with what is wrong, the key values and how many rows.
-#}
{% test primary_key(model, columns, not_null=[], accepted_values={}, unique=[]) %}
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
    {%- for column, values in accepted_values.items() %}
    union all
    select
        '{{ column }} not one of {{ values | join(", ") }}: ' || {{ column }}::varchar as problem,
        {{ key_text }} as key_values,
        1 as failing_rows
    from {{ model }}
    where {{ column }} not in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endfor %}
    {%- for column in unique %}
    union all
    select
        'repeated {{ column }}: ' || {{ column }}::varchar as problem,
        string_agg({{ key_text }}, '; ') as key_values,
        count(*) as failing_rows
    from {{ model }}
    where {{ column }} is not null
    group by {{ column }}
    having count(*) > 1
    {%- endfor %}
{% endtest %}
