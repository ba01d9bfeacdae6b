-- Invariant 4 (docs/rules.md#invariants): nothing is counted twice. Every duplicate points to a
-- transaction that survives; copies of one txn_id come from different files (rows of one file never
-- share an id); a survivor absorbs at most one row of each other schema; and no lower-precedence
-- row with an equal-cents partner of the same account within the window is counted beside it while
-- that partner has absorbed nothing of its schema — unless an open D question or the user's "not a
-- duplicate" keeps it. The last is recomputed here from the facts, not taken from the matching.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

int_review_decisions_latest as (
    select * from {{ ref('int_review_decisions_latest') }}
),

duplicates as (
    select * from fct_transactions
    where kind = 'duplicate'
),

dangling as (
    select
        duplicates.txn_id,
        duplicates.duplicate_of_txn_id as other_txn_id,
        'points to a ' || coalesce(survivors.kind, 'missing') || ' transaction' as problem
    from duplicates
    left join fct_transactions as survivors on duplicates.duplicate_of_txn_id = survivors.txn_id
    where survivors.txn_id is null or survivors.kind = 'duplicate'
),

one_id_twice_in_a_file as (
    select
        txn_id,
        file_sha256 as other_txn_id,
        count(*) || ' rows of one file share this txn_id' as problem
    from stg_ingest__transactions
    group by txn_id, file_sha256
    having count(*) > 1
),

absorbed_twice as (
    select
        min(txn_id) as txn_id,
        duplicate_of_txn_id as other_txn_id,
        'absorbs ' || count(*) || ' rows of schema ' || schema_id as problem
    from duplicates
    group by duplicate_of_txn_id, schema_id
    having count(*) > 1
),

ranked as (
    select
        *,
        {{ source_rank('source_kind') }} as source_rank
    from fct_transactions
),

counted as (
    select ranked.*
    from ranked
    left join int_review_decisions_latest
        on ranked.txn_id = int_review_decisions_latest.txn_id
    where
        ranked.kind <> 'duplicate'
        and int_review_decisions_latest.duplicate_answer is distinct from 'not_duplicate'
),

counted_spread as (
    select
        *,
        {{ day_bucket('transaction_date') }} + unnest([-1, 0, 1]) as near_day_bucket
    from counted
),

schemas_absorbed as (
    select distinct
        duplicate_of_txn_id as txn_id,
        schema_id
    from duplicates
),

counted_beside_its_partner as (
    select
        lower_row.txn_id,
        partner.txn_id as other_txn_id,
        'counted beside an equal row of the same account, '
        || abs(date_diff('day', lower_row.transaction_date, partner.transaction_date))
        || ' day(s) apart' as problem
    from counted as lower_row
    inner join counted_spread as partner
        on
            lower_row.account_id = partner.account_id
            and lower_row.amount_cents = partner.amount_cents
            and {{ day_bucket('lower_row.transaction_date') }} = partner.near_day_bucket
            and lower_row.amount_cents <> 0
            and (
                lower_row.source_rank > partner.source_rank
                or (
                    lower_row.source_rank = partner.source_rank
                    and lower_row.schema_id > partner.schema_id
                )
            )
            and abs(date_diff('day', lower_row.transaction_date, partner.transaction_date))
            <= {{ var('duplicate_window_days') }}
    anti join schemas_absorbed
        on
            partner.txn_id = schemas_absorbed.txn_id
            and lower_row.schema_id = schemas_absorbed.schema_id
),

final as (
    select * from dangling
    union all
    select * from one_id_twice_in_a_file
    union all
    select * from absorbed_twice
    union all
    select * from counted_beside_its_partner
)

select * from final
