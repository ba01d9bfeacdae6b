-- The review decision in force per transaction: the latest journal line wins (§4). A decision on
-- a row that has since become a certain duplicate moves to its survivor (§9.5); a decision whose
-- transaction does not exist is kept and flagged as an orphan (§9.20), never dropped.
with

stg_decisions__review_decisions as (
    select * from {{ ref('stg_decisions__review_decisions') }}
),

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

int_duplicates_matched as (
    select * from {{ ref('int_duplicates_matched') }}
),

latest_per_decided_row as (
    select *
    from stg_decisions__review_decisions
    qualify row_number() over (
        partition by txn_id order by decided_at desc nulls last, journal_line desc
    ) = 1
),

retargeted as (
    select
        coalesce(
            case
                when not int_duplicates_matched.is_suspected
                    then int_duplicates_matched.duplicate_of_txn_id
            end,
            latest_per_decided_row.txn_id
        ) as txn_id,
        latest_per_decided_row.txn_id as decided_txn_id,
        latest_per_decided_row.sharing,
        latest_per_decided_row.payer_share_pct,
        latest_per_decided_row.policy,
        latest_per_decided_row.note,
        latest_per_decided_row.decided_at,
        latest_per_decided_row.journal_line,
        int_transactions_collapsed.txn_id is null as is_orphan
    from latest_per_decided_row
    left join int_transactions_collapsed
        on latest_per_decided_row.txn_id = int_transactions_collapsed.txn_id
    left join int_duplicates_matched
        on latest_per_decided_row.txn_id = int_duplicates_matched.txn_id
),

final as (
    select *
    from retargeted
    qualify row_number() over (
        partition by txn_id order by decided_at desc nulls last, journal_line desc
    ) = 1
)

select * from final
