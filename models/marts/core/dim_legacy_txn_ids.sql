-- The txn_id each row had under the previous identity formula, so that journals and notes
-- written then still name their transaction (docs/rules.md#identity). A view, read one id at
-- a time by `balance explain`.
{{ config(materialized='view') }}

with

stg_ingest__transactions as (
    select * from {{ ref('stg_ingest__transactions') }}
),

final as (
    select distinct
        legacy_txn_id,
        txn_id
    from stg_ingest__transactions
    where legacy_txn_id is not null
)

select * from final
