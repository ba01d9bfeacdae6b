-- Invariant 10 (docs/rules.md#invariants): every review decision refers to an existing
-- transaction. Orphans are a warning: they are listed (here, in `balance check` and on
-- Data_Quality), never dropped.
{{ config(severity = 'warn') }}

with

int_review_decisions_latest as (
    select * from {{ ref('int_review_decisions_latest') }}
),

final as (
    select
        decided_txn_id,
        sharing,
        decided_at
    from int_review_decisions_latest
    where is_orphan
)

select * from final
