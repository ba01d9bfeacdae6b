-- Invariant 4 (§6): every duplicate points to a transaction that survives, and no surviving
-- transaction absorbs two certain duplicates from the same file schema (nothing counted twice).
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

duplicates as (
    select * from fct_transactions
    where kind = 'duplicate'
),

dangling as (
    select
        duplicates.txn_id,
        duplicates.duplicate_of_txn_id,
        coalesce(survivors.kind, 'missing') as problem
    from duplicates
    left join fct_transactions as survivors on duplicates.duplicate_of_txn_id = survivors.txn_id
    where survivors.txn_id is null or survivors.kind = 'duplicate'
),

absorbed_twice as (
    select
        min(txn_id) as txn_id,
        duplicate_of_txn_id,
        'absorbs ' || count(*) || ' duplicates of schema ' || schema_id as problem
    from duplicates
    where not is_suspected_duplicate
    group by duplicate_of_txn_id, schema_id
    having count(*) > 1
),

final as (
    select * from dangling
    union all
    select * from absorbed_twice
)

select * from final
