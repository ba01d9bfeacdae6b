with

source as (
    select * from {{ source('decisions', 'review_decisions') }}
),

renamed as (
    select
        row_number as journal_line,
        trim(txn_id) as txn_id,
        sharing,
        payer_share_pct,
        lower(nullif(trim(policy), '')) as policy,
        note,
        decided_at
    from source
)

select * from renamed
