-- Every pair of rows that may be one purchase seen in two sources (docs/rules.md#duplicates): the
-- same account in files of different schemas, equal cents, dates within the window. The
-- lower-precedence row (aggregator < payment app < direct bank; among equals, the later schema id)
-- is the one that would yield. A row the user said is not a duplicate yields to nothing.
with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

int_review_decisions_targeted as (
    select * from {{ ref('int_review_decisions_targeted') }}
),

not_duplicates as (
    select txn_id
    from int_review_decisions_targeted
    where
        question = 'duplicate'
        and is_latest_for_question
        and sharing = 'not_duplicate'
        and not is_orphan
),

ranked_sources as (
    select
        txn_id,
        account_id,
        schema_id,
        transaction_date,
        amount_cents,
        source_kind,
        {{ source_rank('source_kind') }} as source_rank
    from int_transactions_enriched
),

ranked_sources_spread as (
    select
        *,
        {{ day_bucket('transaction_date') }} + unnest([-1, 0, 1]) as near_day_bucket
    from ranked_sources
),

final as (
    select
        yielding.txn_id as yielding_txn_id,
        surviving.txn_id as surviving_txn_id,
        yielding.account_id,
        yielding.amount_cents,
        yielding.schema_id as yielding_schema_id,
        yielding.source_kind as yielding_source_kind,
        yielding.transaction_date as yielding_date,
        surviving.schema_id as surviving_schema_id,
        surviving.source_rank as surviving_source_rank,
        surviving.transaction_date as surviving_date,
        abs(date_diff('day', surviving.transaction_date, yielding.transaction_date)) as days_apart
    from ranked_sources as yielding
    inner join ranked_sources_spread as surviving
        on
            yielding.account_id = surviving.account_id
            and yielding.amount_cents = surviving.amount_cents
            and {{ day_bucket('yielding.transaction_date') }} = surviving.near_day_bucket
            and (
                yielding.source_rank > surviving.source_rank
                or (
                    yielding.source_rank = surviving.source_rank
                    and yielding.schema_id > surviving.schema_id
                )
            )
            and abs(date_diff('day', surviving.transaction_date, yielding.transaction_date))
            <= {{ var('duplicate_window_days') }}
    anti join not_duplicates on yielding.txn_id = not_duplicates.txn_id
)

select * from final
