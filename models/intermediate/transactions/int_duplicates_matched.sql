-- Cross-source duplicates (§9.5): the same account in files of different schemas, equal cents,
-- dates within the window. The row of the lower-precedence source (aggregator < payment app <
-- direct bank) yields to its nearest match; a tie between two candidates becomes a D question.
{%- set precedence = var('duplicate_source_precedence') %}
with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

ranked_sources as (
    select
        txn_id,
        account_id,
        schema_id,
        transaction_date,
        amount_cents,
        source_kind,
        list_position({{ precedence | tojson | replace('"', "'") }}, source_kind) as source_rank
    from int_transactions_enriched
),

candidates as (
    select
        yielding.txn_id as left_id,
        surviving.txn_id as right_id,
        abs(date_diff('day', surviving.transaction_date, yielding.transaction_date)) as sort_key,
        yielding.source_kind as yielding_source_kind,
        surviving.schema_id as surviving_schema_id
    from ranked_sources as yielding
    inner join ranked_sources as surviving
        on
            yielding.account_id = surviving.account_id
            and yielding.schema_id <> surviving.schema_id
            and yielding.amount_cents = surviving.amount_cents
            and yielding.source_rank > surviving.source_rank
            and abs(date_diff('day', surviving.transaction_date, yielding.transaction_date))
            <= {{ var('duplicate_window_days') }}
),

{{ match_nearest_pairs('candidates') }},

counted_candidates as (
    -- How many candidates each side has at the same distance: more than one is a tie.
    select
        *,
        count(*) over (partition by left_id, sort_key) as candidates_for_row,
        count(*) over (partition by right_id, sort_key) as candidates_for_survivor
    from candidates
),

ties as (
    select
        matched_pairs.left_id,
        matched_pairs.right_id,
        counted_candidates.sort_key as days_apart,
        counted_candidates.yielding_source_kind,
        counted_candidates.surviving_schema_id,
        counted_candidates.candidates_for_row,
        counted_candidates.candidates_for_survivor
    from matched_pairs
    inner join counted_candidates
        on
            matched_pairs.left_id = counted_candidates.left_id
            and matched_pairs.right_id = counted_candidates.right_id
),

final as (
    select
        left_id as txn_id,
        right_id as duplicate_of_txn_id,
        days_apart,
        candidates_for_row > 1 or candidates_for_survivor > 1 as is_suspected,
        'same account and amount, ' || days_apart || ' day(s) apart; '
        || yielding_source_kind || ' row yields to ' || surviving_schema_id
        || case
            when candidates_for_row > 1 or candidates_for_survivor > 1
                then ' (several equally close candidates: confirm with D)'
            else ''
        end as duplicate_reason
    from ties
)

select * from final
