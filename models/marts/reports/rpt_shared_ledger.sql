-- The Shared_Ledger sheet: every entry that moves a balance, with each member's share and the
-- cents it moves their balance by (docs/rules.md#the-balance). It reads the movements
-- fct_balances_daily sums, so the two agree to the cent. One row per entry and member it
-- moves. A view, because only the export reads it, and only the months the workbook shows:
-- a date filter reaches below its joins.
{{ config(materialized='view') }}

with

int_balance_movements as (
    select * from {{ ref('int_balance_movements') }}
),

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_shares as (
    select * from {{ ref('fct_shares') }}
),

fct_settlements as (
    select * from {{ ref('fct_settlements') }}
),

expenses as (
    select * from fct_transactions
    where kind = 'expense'
),

-- Plain equality joins only (a condition on the left table alone makes DuckDB loop over every
-- pair): expense movements carry expense txn_ids, settlement movements settlement ids, and the
-- two never meet.
entries as (
    select
        int_balance_movements.movement_source_id as entry_id,
        int_balance_movements.movement_date as entry_date,
        -- The opening balances come first on their day: later movements count from them.
        int_balance_movements.movement_kind = 'opening_balance' as is_opening_balance,
        case
            when int_balance_movements.movement_kind = 'opening_balance' then 'opening balance'
            when int_balance_movements.movement_kind like 'settlement%' then 'settlement'
            when expenses.cost < 0 then 'refund'
            else 'expense'
        end as entry,
        case
            when int_balance_movements.movement_kind <> 'opening_balance'
                then int_balance_movements.movement_source_id
        end as txn_id,
        coalesce(expenses.payer_member_id, fct_settlements.from_member_id) as paid_by_member_id,
        fct_settlements.to_member_id as paid_to_member_id,
        coalesce(expenses.description, settlement_legs.description) as description,
        expenses.merchant,
        expenses.category,
        expenses.sharing,
        expenses.policy,
        coalesce(expenses.cost, fct_settlements.amount) as cost,
        int_balance_movements.member_id,
        fct_shares.share_amount,
        int_balance_movements.movement_cents
    from int_balance_movements
    left join expenses on int_balance_movements.movement_source_id = expenses.txn_id
    left join fct_shares
        on
            int_balance_movements.movement_source_id = fct_shares.txn_id
            and int_balance_movements.member_id = fct_shares.member_id
    left join fct_settlements
        on int_balance_movements.movement_source_id = fct_settlements.settlement_id
    left join fct_transactions as settlement_legs
        on coalesce(fct_settlements.out_txn_id, fct_settlements.in_txn_id) = settlement_legs.txn_id
),

final as (
    select * from entries
)

select * from final
