-- Every cent that moves a member's balance (docs/rules.md#the-balance), from the clean-slate date
-- on (docs/rules.md#clean-slate): paying a shared cost (+cost), bearing a share (−share), sending a
-- settlement (+amount), receiving one (−amount), and the opening balances themselves.
with

int_shares_allocated as (
    select * from {{ ref('int_shares_allocated') }}
),

int_transactions_classified as (
    select * from {{ ref('int_transactions_classified') }}
),

int_settlements_identified as (
    select * from {{ ref('int_settlements_identified') }}
),

stg_household__opening_balances as (
    select * from {{ ref('stg_household__opening_balances') }}
),

clean_slate as (
    select max(as_of_date) as as_of_date
    from stg_household__opening_balances
),

expense_movements as (
    select
        int_shares_allocated.txn_id as movement_source_id,
        int_shares_allocated.member_id,
        int_transactions_classified.transaction_date as movement_date,
        case when int_shares_allocated.is_payer then int_shares_allocated.cost_cents else 0 end
        - int_shares_allocated.share_cents as movement_cents,
        'expense' as movement_kind
    from int_shares_allocated
    inner join int_transactions_classified
        on int_shares_allocated.txn_id = int_transactions_classified.txn_id
),

settlement_movements as (
    select
        settlement_id as movement_source_id,
        from_member_id as member_id,
        settlement_date as movement_date,
        amount_cents as movement_cents,
        'settlement_sent' as movement_kind
    from int_settlements_identified
    union all
    select
        settlement_id as movement_source_id,
        to_member_id as member_id,
        settlement_date as movement_date,
        -amount_cents as movement_cents,
        'settlement_received' as movement_kind
    from int_settlements_identified
),

opening_movements as (
    select
        'opening:' || stg_household__opening_balances.as_of_date as movement_source_id,
        stg_household__opening_balances.member_id,
        stg_household__opening_balances.as_of_date as movement_date,
        stg_household__opening_balances.net_cents as movement_cents,
        'opening_balance' as movement_kind
    from stg_household__opening_balances
    inner join clean_slate on stg_household__opening_balances.as_of_date = clean_slate.as_of_date
),

all_movements as (
    select * from expense_movements
    union all
    select * from settlement_movements
),

final as (
    select all_movements.*
    from all_movements
    cross join clean_slate
    where clean_slate.as_of_date is null or all_movements.movement_date >= clean_slate.as_of_date
    union all
    select * from opening_movements
)

select * from final
