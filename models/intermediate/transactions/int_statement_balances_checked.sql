-- Statement checks (§9.18) for files that state a running balance: per file in date order, the
-- opening balance is the first row's balance minus its amount, and at the last row of each day
-- the stated balance must equal the opening plus every amount up to that day.
with

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

files_with_balances as (
    select
        file_sha256,
        -- Some banks list newest first: the file's first row is then its latest.
        arg_min(transaction_date, line_number) > arg_max(transaction_date, line_number) as is_newest_first
    from stg_ingest__transactions
    where balance_cents is not null
    group by file_sha256
),

chronological as (
    select
        stg_ingest__transactions.file_sha256,
        stg_ingest__transactions.file_path,
        stg_ingest__transactions.transaction_date,
        stg_ingest__transactions.line_number,
        stg_ingest__transactions.amount_cents,
        stg_ingest__transactions.balance_cents,
        row_number() over (
            partition by stg_ingest__transactions.file_sha256
            order by
                stg_ingest__transactions.transaction_date,
                case
                    when files_with_balances.is_newest_first then -stg_ingest__transactions.line_number
                    else stg_ingest__transactions.line_number
                end
        ) as position_in_time
    from stg_ingest__transactions
    inner join files_with_balances on stg_ingest__transactions.file_sha256 = files_with_balances.file_sha256
),

running as (
    select
        *,
        first_value(balance_cents - amount_cents) over (
            partition by file_sha256 order by position_in_time
        ) as opening_cents,
        sum(amount_cents) over (
            partition by file_sha256 order by position_in_time
        ) as amounts_so_far_cents
    from chronological
),

final as (
    select
        file_sha256,
        file_path,
        transaction_date as statement_date,
        line_number,
        balance_cents as stated_balance_cents,
        opening_cents + amounts_so_far_cents as computed_balance_cents,
        balance_cents = opening_cents + amounts_so_far_cents as is_matching
    from running
    qualify position_in_time = max(position_in_time) over (partition by file_sha256, transaction_date)
)

select * from final
