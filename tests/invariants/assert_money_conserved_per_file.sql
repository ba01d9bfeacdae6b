-- Invariant 2 (docs/rules.md#invariants): for every loaded file, the sum of the amounts parsed at
-- ingest equals the sum of the amounts in staging, to the cent.
with

stg_ingest__files as (
    select * from {{ ref('stg_ingest__files') }}
),

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

staged_money as (
    select
        file_sha256,
        sum(amount) as staged_amount
    from stg_ingest__transactions
    group by file_sha256
),

final as (
    select
        stg_ingest__files.file_path,
        stg_ingest__files.amount_cents_total,
        staged_money.staged_amount
    from stg_ingest__files
    left join staged_money on stg_ingest__files.file_sha256 = staged_money.file_sha256
    where
        {{ cents_to_amount('stg_ingest__files.amount_cents_total') }}
        <> coalesce(staged_money.staged_amount, 0)
)

select * from final
