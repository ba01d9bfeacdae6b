{#-
    The bucket of window + 1 days (var duplicate_window_days) a date falls in. Two dates within
    the window are in the same or adjacent buckets, so a join that spreads one side over its
    bucket and the two beside it (`day_bucket(...) + unnest([-1, 0, 1])`) can match on equal
    buckets: the hash join then uses the dates, where a bare |Δdate| condition is checked on
    every pair of equal cents. The exact window check stays in the join.
-#}
{% macro day_bucket(date_column) -%}
    (date_diff('day', date '1970-01-01', {{ date_column }}) // ({{ var('duplicate_window_days') }} + 1))
{%- endmacro %}
