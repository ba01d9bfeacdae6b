{#-
    The bucket of window + 1 days a date falls in (the window: var duplicate_window_days unless
    given). Two dates within the window are in the same or adjacent buckets, so a join that
    spreads one side over its bucket and the ones beside it (`day_bucket(...) + unnest([-1, 0,
    1])`) can match on equal buckets: the hash join then uses the dates, where a bare |Δdate|
    condition is checked on every pair of equal keys. The exact window check stays in the join.
-#}
{% macro day_bucket(date_column, window_days=none) -%}
    {%- set days = window_days if window_days is not none else var('duplicate_window_days') -%}
    (date_diff('day', date '1970-01-01', {{ date_column }}) // ({{ days }} + 1))
{%- endmacro %}
