-- Invariant 8 (docs/rules.md#invariants): each settlement counts once: every settlement leg belongs
-- to exactly one settlement, a pair's two legs to the same one, no leg is in two settlements, each
-- leg is in the accounts of the member the settlement names for it (the payer sends, the payee
-- receives), a leg whose own counterparty names someone names the settlement's other member, and no
-- settlement is between a member and themself. (A payment seen in several files of one account is
-- one leg: invariant 4 sees a copy counted beside it.)
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_settlements as (
    select * from {{ ref('fct_settlements') }}
),

int_counterparties_named as (
    select * from {{ ref('int_counterparties_named') }}
),

legs as (
    select
        txn_id,
        settlement_id,
        payer_member_id
    from fct_transactions
    where kind = 'settlement'
),

named_legs as (
    select
        settlement_id,
        out_txn_id as txn_id,
        from_member_id as member_id,
        to_member_id as other_member_id
    from fct_settlements
    where out_txn_id is not null
    union all
    select
        settlement_id,
        in_txn_id as txn_id,
        to_member_id as member_id,
        from_member_id as other_member_id
    from fct_settlements
    where in_txn_id is not null
),

legs_in_two_settlements as (
    select
        min(settlement_id) as settlement_id,
        null as leg_count,
        null as named_leg_count,
        null as is_to_self
    from named_legs
    group by txn_id
    having count(distinct settlement_id) > 1
),

legs_of_other_members as (
    select
        named_legs.settlement_id,
        null as leg_count,
        null as named_leg_count,
        null as is_to_self
    from named_legs
    inner join legs on named_legs.txn_id = legs.txn_id
    where legs.payer_member_id <> named_legs.member_id
),

legs_naming_someone_else as (
    -- Read from the leg's own counterparty (its payment app's columns or its bank line), not
    -- from the pairing: a leg paid to a non-member, or naming a third member, is no half of it.
    select
        named_legs.settlement_id,
        null as leg_count,
        null as named_leg_count,
        null as is_to_self
    from named_legs
    inner join int_counterparties_named on named_legs.txn_id = int_counterparties_named.txn_id
    where
        int_counterparties_named.is_non_member
        or int_counterparties_named.counterparty_member_id <> named_legs.other_member_id
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
    union all
    select * from legs_in_two_settlements
    union all
    select * from legs_of_other_members
    union all
    select * from legs_naming_someone_else
)

select * from final
