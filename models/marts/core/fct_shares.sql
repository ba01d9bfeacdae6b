-- One row per shared or split expense and member: the member's share and what the expense does
-- to the member's balance (the payer gains the cost, everyone bears their share).
with

int_shares_allocated as (
    select * from {{ ref('int_shares_allocated') }}
),

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

final as (
    select
        int_shares_allocated.txn_id,
        int_shares_allocated.member_id,
        fct_transactions.transaction_date,
        int_shares_allocated.payer_member_id,
        int_shares_allocated.is_payer,
        fct_transactions.sharing,
        fct_transactions.policy,
        int_shares_allocated.cost_cents,
        int_shares_allocated.share_cents,
        {{ cents_to_amount('int_shares_allocated.share_cents') }} as share_amount,
        case when int_shares_allocated.is_payer then int_shares_allocated.cost_cents else 0 end
        - int_shares_allocated.share_cents as balance_effect_cents,
        fct_transactions.is_before_clean_slate
    from int_shares_allocated
    inner join fct_transactions
        on int_shares_allocated.txn_id = fct_transactions.txn_id
)

select * from final
