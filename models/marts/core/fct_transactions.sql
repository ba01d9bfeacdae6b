-- Every transaction once, whatever its kind, with its lineage and the trail of what decided it.
with

int_transactions_classified as (
    select * from {{ ref('int_transactions_classified') }}
),

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

int_policy_weights_applied as (
    select * from {{ ref('int_policy_weights_applied') }}
),

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

stg_household__opening_balances as (
    select * from {{ ref('stg_household__opening_balances') }}
),

clean_slate as (
    select max(as_of_date) as as_of_date
    from stg_household__opening_balances
),

sharing_issues as (
    select distinct
        txn_id,
        sharing_issue
    from int_policy_weights_applied
    where sharing_issue is not null
),

final as (
    select
        int_transactions_classified.txn_id,
        int_transactions_classified.transaction_date,
        int_transactions_enriched.posted_date,
        int_transactions_classified.owner_member_id as payer_member_id,
        int_transactions_enriched.account_id,
        int_transactions_enriched.account_label,
        int_transactions_enriched.description,
        int_transactions_enriched.merchant,
        int_transactions_enriched.category,
        int_transactions_classified.amount_cents,
        int_transactions_enriched.amount,
        {{ cents_to_amount('int_transactions_classified.cost_cents') }} as cost,
        int_transactions_classified.kind,
        case
            when sharing_issues.sharing_issue is not null then 'pending'
            else int_transactions_classified.sharing
        end as sharing,
        int_transactions_classified.policy,
        cast(int_transactions_classified.payer_share_pct as decimal(5, 2)) as payer_share_pct,
        int_transactions_classified.decision_source,
        int_transactions_enriched.merchant_source,
        int_transactions_classified.review_note,
        int_transactions_classified.reviewed_at,
        sharing_issues.sharing_issue,
        int_transactions_classified.duplicate_of_txn_id,
        int_transactions_classified.duplicate_reason,
        -- An open D question: a suspect nobody has answered yet (D, or Y/N/S = not a duplicate).
        int_transactions_classified.is_suspected_duplicate
        and int_transactions_classified.duplicate_answer is null as is_suspected_duplicate,
        int_transactions_classified.counterparty_member_id,
        int_transactions_classified.refund_of_txn_id,
        coalesce(
            int_transactions_classified.transaction_date < clean_slate.as_of_date, false
        ) as is_before_clean_slate,
        int_transactions_classified.kind = 'expense'
        and (int_transactions_classified.sharing = 'pending' or sharing_issues.sharing_issue is not null)
        and not coalesce(int_transactions_classified.transaction_date < clean_slate.as_of_date, false)
            as is_pending_review,
        int_transactions_enriched.schema_id,
        int_transactions_enriched.source_kind,
        kept_copy.file_path,
        cast(int_transactions_enriched.line_number as bigint) as line_number,
        kept_copy.raw_line,
        kept_copy.loaded_at,
        int_transactions_enriched.loaded_copies,
        case
            when int_transactions_classified.kind = 'settlement'
                then coalesce(int_transactions_classified.pair_out_txn_id, int_transactions_classified.txn_id)
        end as settlement_id
    from int_transactions_classified
    cross join clean_slate
    -- What the transaction is, and the kept copy's raw line: joined once here rather than
    -- carried through every step of the decision.
    inner join int_transactions_enriched
        on int_transactions_classified.txn_id = int_transactions_enriched.txn_id
    inner join stg_ingest__transactions as kept_copy
        on
            int_transactions_enriched.file_sha256 = kept_copy.file_sha256
            and int_transactions_enriched.line_number = kept_copy.line_number
    left join sharing_issues
        on int_transactions_classified.txn_id = sharing_issues.txn_id
)

select * from final
