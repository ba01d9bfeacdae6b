-- Statement checks (docs/rules.md#statement-balances) for files that state a running balance: in
-- the file's own row order, ascending or descending (whichever its balances follow), and skipping
-- rows without a stated balance, each stated balance must be the previous one plus the amounts of
-- the rows since. A file that does not reconcile is a finding (invariant 9 warns), never a block.
with

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

files_with_balances as (
    select distinct file_sha256
    from stg_ingest__transactions
    where balance_cents is not null
),

running_sums as (
    -- A stated balance less the running sum of the amounts up to its row is the same all
    -- through a file whose balances follow that order: the balance before the first row.
    select
        stg_ingest__transactions.file_sha256,
        stg_ingest__transactions.file_path,
        stg_ingest__transactions.line_number,
        stg_ingest__transactions.transaction_date,
        stg_ingest__transactions.balance_cents,
        sum(stg_ingest__transactions.amount_cents) over (
            partition by stg_ingest__transactions.file_sha256
            order by stg_ingest__transactions.line_number asc
        ) as sum_down_cents,
        sum(stg_ingest__transactions.amount_cents) over (
            partition by stg_ingest__transactions.file_sha256
            order by stg_ingest__transactions.line_number desc
        ) as sum_up_cents
    from stg_ingest__transactions
    inner join files_with_balances
        on stg_ingest__transactions.file_sha256 = files_with_balances.file_sha256
),

stated as (
    select
        *,
        balance_cents - sum_down_cents as offset_down_cents,
        balance_cents - sum_up_cents as offset_up_cents
    from running_sums
    where balance_cents is not null
),

compared as (
    select
        *,
        lag(offset_down_cents) over (partition by file_sha256 order by line_number asc)
            as previous_offset_down_cents,
        lag(offset_up_cents) over (partition by file_sha256 order by line_number desc)
            as previous_offset_up_cents
    from stated
),

file_orders as (
    -- The order with fewer disagreements is the file's; a tie reads top down.
    select
        file_sha256,
        count(*) filter (where offset_up_cents <> previous_offset_up_cents) as disagreements_up,
        count(*) filter (where offset_down_cents <> previous_offset_down_cents) as disagreements_down
    from compared
    group by file_sha256
),

checked as (
    select
        compared.file_sha256,
        compared.file_path,
        compared.line_number,
        compared.transaction_date as statement_date,
        file_orders.disagreements_up < file_orders.disagreements_down as is_newest_first,
        compared.balance_cents as stated_balance_cents,
        -- The previous stated balance plus the amounts since (the first stated balance is taken
        -- as it is).
        compared.balance_cents
        - case
            when file_orders.disagreements_up < file_orders.disagreements_down
                then compared.offset_up_cents - coalesce(compared.previous_offset_up_cents, compared.offset_up_cents)
            else compared.offset_down_cents - coalesce(compared.previous_offset_down_cents, compared.offset_down_cents)
        end as computed_balance_cents
    from compared
    inner join file_orders on compared.file_sha256 = file_orders.file_sha256
),

final as (
    select
        *,
        stated_balance_cents = computed_balance_cents as is_matching
    from checked
)

select * from final
