-- Spending per month, member and category: each member's part of shared and split expenses
-- (their shares), what they paid for others, and their personal expenses.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_shares as (
    select * from {{ ref('fct_shares') }}
),

shared_parts as (
    select
        cast(date_trunc('month', fct_transactions.transaction_date) as date) as month_start,
        fct_shares.member_id,
        fct_transactions.category,
        fct_shares.share_cents as shared_cents,
        case when fct_shares.is_payer then fct_shares.cost_cents else 0 end as paid_shared_cents,
        0 as personal_cents,
        case when fct_shares.is_payer then 1 else 0 end as transaction_count
    from fct_shares
    inner join fct_transactions on fct_shares.txn_id = fct_transactions.txn_id
),

personal_parts as (
    select
        cast(date_trunc('month', transaction_date) as date) as month_start,
        payer_member_id as member_id,
        category,
        0 as shared_cents,
        0 as paid_shared_cents,
        -amount_cents as personal_cents,
        1 as transaction_count
    from fct_transactions
    where kind = 'expense' and sharing = 'personal'
),

all_parts as (
    select * from shared_parts
    union all
    select * from personal_parts
),

final as (
    select
        month_start,
        member_id,
        category,
        {{ cents_to_amount('sum(shared_cents)') }} as shared_amount,
        {{ cents_to_amount('sum(paid_shared_cents)') }} as paid_shared_amount,
        {{ cents_to_amount('sum(personal_cents)') }} as personal_amount,
        cast(sum(transaction_count) as bigint) as transaction_count
    from all_parts
    group by month_start, member_id, category
)

select * from final
