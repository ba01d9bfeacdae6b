{#-
    One-to-one matching of candidate pairs, nearest first (§9.5, §9.6).

    `candidates` is a relation with columns left_id, right_id and sort_key (a value, or a list,
    that orders pairs best first, ties broken by the ids). A pair is accepted when each side is the
    other's best remaining choice; three rounds leave out only pathological chains, whose rows stay
    unmatched (and so undecided) rather than wrongly matched.
-#}
{% macro match_nearest_pairs(candidates, rounds=3) %}
{% for round in range(rounds) %}
round_{{ round }}_open as (
    select *
    from {{ candidates }}
    where true
    {% for earlier in range(round) %}
        and left_id not in (select left_id from round_{{ earlier }}_accepted)
        and right_id not in (select right_id from round_{{ earlier }}_accepted)
    {% endfor %}
),

round_{{ round }}_accepted as (
    select left_id, right_id
    from round_{{ round }}_open
    qualify row_number() over (partition by left_id order by sort_key, right_id) = 1
        and row_number() over (partition by right_id order by sort_key, left_id) = 1
),
{% endfor %}

matched_pairs as (
    select left_id, right_id from round_0_accepted
    {% for round in range(1, rounds) %}
        union all
        select left_id, right_id from round_{{ round }}_accepted
    {% endfor %}
)
{% endmacro %}
