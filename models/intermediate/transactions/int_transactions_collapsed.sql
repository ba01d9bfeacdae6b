-- One row per txn_id: the same transaction in overlapping downloads of one account (same schema,
-- owner, facts and occurrence) is one transaction; the first loaded copy carries the lineage.
-- Only the columns later steps compute with are kept: the kept copy's file and line lead back to
-- its raw line, which fct_transactions joins once instead of every step rewriting it.
with

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

collapsed as (
    select
        txn_id,
        file_sha256,
        line_number,
        schema_id,
        source_kind,
        owner_member_id,
        institution,
        account_text,
        account_last4,
        transaction_date,
        posted_date,
        description,
        counterparty_text,
        merchant_text,
        category_text,
        amount_cents,
        amount,
        shared_amount_cents,
        static_sharing,
        static_policy,
        count(*) over (partition by txn_id) as loaded_copies
    from stg_ingest__transactions
    qualify row_number() over (
        partition by txn_id order by loaded_at, file_path, line_number
    ) = 1
)

select * from collapsed
