-- Invariant 3 (docs/rules.md#invariants): txn_id is unique and not null in the transaction fact,
-- and every raw row's txn_id reaches it (collapsing overlapping downloads loses no transaction).
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

repeated_or_missing_ids as (
    select
        txn_id,
        count(*) as rows_in_fact
    from fct_transactions
    group by txn_id
    having count(*) > 1 or txn_id is null
),

raw_ids_not_in_fact as (
    select distinct
        stg_ingest__transactions.txn_id,
        0 as rows_in_fact
    from stg_ingest__transactions
    anti join fct_transactions on stg_ingest__transactions.txn_id = fct_transactions.txn_id
),

final as (
    select * from repeated_or_missing_ids
    union all
    select * from raw_ids_not_in_fact
)

select * from final
