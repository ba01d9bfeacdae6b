-- noqa: disable=LT02
{#-
    One-to-one matching of candidate pairs, nearest first (docs/rules.md#settlements).

    `candidates` is a relation with columns left_id, right_id and sort_key (a value, or a list,
    that orders pairs best first, ties broken by the ids). A pair is accepted when each side is the
    other's best remaining choice; the sides it took leave the pool (anti joins, so each round
    costs one pass) and the next round matches what remains. Three rounds leave out only
    pathological chains, whose rows stay unmatched (and so undecided) rather than wrongly matched.

    (LT02 is off above: sqlfluff cannot indent a macro whose output is a list of CTEs.)
-#}
{% macro match_nearest_pairs(candidates, rounds=3) %}
round_0_open as (
    select * from {{ candidates }}
),
{% for round in range(rounds) %}
round_{{ round }}_accepted as (
    select left_id, right_id
    from round_{{ round }}_open
    qualify row_number() over (partition by left_id order by sort_key, right_id) = 1
        and row_number() over (partition by right_id order by sort_key, left_id) = 1
),
{% if not loop.last %}
round_{{ round + 1 }}_open as (
    select round_{{ round }}_open.*
    from round_{{ round }}_open
    anti join round_{{ round }}_accepted as taken_left
        on round_{{ round }}_open.left_id = taken_left.left_id
    anti join round_{{ round }}_accepted as taken_right
        on round_{{ round }}_open.right_id = taken_right.right_id
),
{% endif %}
{% endfor %}

matched_pairs as (
    select left_id, right_id from round_0_accepted
    {% for round in range(1, rounds) %}
        union all
        select left_id, right_id from round_{{ round }}_accepted
    {% endfor %}
)
{% endmacro %}
