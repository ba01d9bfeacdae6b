{#-
    Generic test: the given columns together identify each row (none null, no two rows alike).
    Fails with the offending key values.
-#}
{% test primary_key(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
        {% for column in columns %} or {{ column }} is null{% endfor %}
{% endtest %}
