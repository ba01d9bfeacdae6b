-- Invariant 10 (docs/rules.md#invariants): kinds and sharing values are from their lists and every
-- payer share is a percentage from 0 to 100.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

final as (
    select
        txn_id,
        kind,
        sharing,
        payer_share_pct
    from fct_transactions
    where
        kind not in ('expense', 'income', 'transfer', 'settlement', 'duplicate', 'ignored')
        or kind is null
        or (kind = 'expense' and sharing not in ('shared', 'personal', 'split', 'pending'))
        or (kind = 'expense' and sharing is null)
        or (kind <> 'expense' and sharing is not null)
        or payer_share_pct not between 0 and 100
        or (sharing = 'split' and payer_share_pct is null)
)

select * from final
