-- Invariant 5 (§6): the shares of each shared or split expense sum exactly to its cost, and
-- every such expense has shares.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_shares as (
    select * from {{ ref('fct_shares') }}
),

share_totals as (
    select
        txn_id,
        sum(share_cents) as shares_cents
    from fct_shares
    group by txn_id
),

final as (
    select
        fct_transactions.txn_id,
        -fct_transactions.amount_cents as cost_cents,
        share_totals.shares_cents
    from fct_transactions
    left join share_totals on fct_transactions.txn_id = share_totals.txn_id
    where
        fct_transactions.sharing in ('shared', 'split')
        and share_totals.shares_cents is distinct from -fct_transactions.amount_cents
)

select * from final
