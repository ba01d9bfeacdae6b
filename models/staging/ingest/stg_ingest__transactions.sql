with

source as (
    select * from {{ source('ingest', 'transactions') }}
),

renamed as (
    select
        txn_id,
        legacy_txn_id,
        file_sha256,
        file_path,
        line_number,
        raw_line,
        schema_id,
        source_kind,
        inbox_member_id,
        owner_member_id,
        member_text,
        purchased_by,
        institution,
        account_text,
        account_last4,
        transaction_date,
        posted_date,
        description,
        merchant_text,
        category_text,
        reference,
        note,
        counterparty_text,
        status_text,
        amount_cents,
        {{ cents_to_amount('amount_cents') }} as amount,
        balance_cents,
        shared_amount_cents,
        static_sharing,
        static_policy,
        occurrence_index,
        loaded_at
    from source
)

select * from renamed
