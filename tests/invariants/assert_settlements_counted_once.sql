-- Invariant 8 (§6): each settlement counts once: every settlement leg belongs to exactly one
-- settlement, a pair's two legs to the same one, and no settlement is between a member and
-- themself.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_settlements as (
    select * from {{ ref('fct_settlements') }}
),

legs as (
    select
        txn_id,
        settlement_id
    from fct_transactions
    where kind = 'settlement'
),

legs_per_settlement as (
    select
        fct_settlements.settlement_id,
        count(legs.txn_id) as leg_count,
        count(*) filter (
            where legs.txn_id in (fct_settlements.out_txn_id, fct_settlements.in_txn_id)
        ) as named_leg_count,
        any_value(fct_settlements.from_member_id = fct_settlements.to_member_id) as is_to_self
    from fct_settlements
    left join legs on fct_settlements.settlement_id = legs.settlement_id
    group by fct_settlements.settlement_id
),

final as (
    select
        settlement_id,
        leg_count,
        named_leg_count,
        is_to_self
    from legs_per_settlement
    where
        leg_count = 0
        or leg_count > 2
        or named_leg_count <> leg_count
        or is_to_self
    union all
    select
        legs.settlement_id,
        null as leg_count,
        null as named_leg_count,
        null as is_to_self
    from legs
    anti join fct_settlements on legs.settlement_id = fct_settlements.settlement_id
)

select * from final
