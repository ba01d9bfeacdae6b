-- Every review journal line with the transaction it answers today: the one whose txn_id it names
-- or, for a line written before account identity joined txn_id, every transaction whose rows carry
-- that id as their legacy_txn_id (docs/rules.md#identity). A line that names neither is kept as an
-- orphan, never dropped. D and "not a duplicate" answer the duplicate question; Y, N and S the
-- sharing question; the latest line per question is the answer in force.
with

stg_decisions__review_decisions as (
    select * from {{ ref('stg_decisions__review_decisions') }}
),

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

legacy_ids as (
    -- Only the ids the journal names: a small semi join instead of a million distinct rows.
    select distinct
        stg_ingest__transactions.legacy_txn_id,
        stg_ingest__transactions.txn_id
    from stg_ingest__transactions
    semi join stg_decisions__review_decisions
        on stg_ingest__transactions.legacy_txn_id = stg_decisions__review_decisions.txn_id
),

targets as (
    select
        stg_decisions__review_decisions.journal_line,
        coalesce(
            int_transactions_collapsed.txn_id,
            legacy_ids.txn_id,
            stg_decisions__review_decisions.txn_id
        ) as txn_id,
        stg_decisions__review_decisions.txn_id as decided_txn_id,
        stg_decisions__review_decisions.sharing,
        stg_decisions__review_decisions.payer_share_pct,
        stg_decisions__review_decisions.policy,
        stg_decisions__review_decisions.note,
        stg_decisions__review_decisions.decided_at,
        case
            when stg_decisions__review_decisions.sharing in ('duplicate', 'not_duplicate')
                then 'duplicate'
            else 'sharing'
        end as question,
        legacy_ids.txn_id is not null as names_legacy_id,
        int_transactions_collapsed.txn_id is null and legacy_ids.txn_id is null as is_orphan
    from stg_decisions__review_decisions
    left join int_transactions_collapsed
        on stg_decisions__review_decisions.txn_id = int_transactions_collapsed.txn_id
    left join legacy_ids
        on
            int_transactions_collapsed.txn_id is null
            and stg_decisions__review_decisions.txn_id = legacy_ids.legacy_txn_id
),

final as (
    select
        *,
        -- The answer in force for its question: the last line in the journal, by position; a
        -- hand-edited decided_at may be blank or out of order.
        row_number() over (
            partition by txn_id, question order by journal_line desc
        ) = 1 as is_latest_for_question
    from targets
)

select * from final
