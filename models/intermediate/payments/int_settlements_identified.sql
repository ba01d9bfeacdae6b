-- One row per settlement between members (docs/rules.md#settlements): a pair counts once, dated
-- by its out-leg; an unpaired leg counts when its description names exactly one other member.
with

int_transactions_classified as (
    select * from {{ ref('int_transactions_classified') }}
    where kind = 'settlement'
),

final as (
    select
        coalesce(pair_out_txn_id, txn_id) as settlement_id,
        min(transaction_date) filter (where amount_cents < 0 or pair_out_txn_id is null) as settlement_date,
        -- The sender is the owner of the out-leg, or the named member for a lone in-leg.
        min(case when amount_cents < 0 then owner_member_id else counterparty_member_id end)
            as from_member_id,
        min(case when amount_cents < 0 then counterparty_member_id else owner_member_id end)
            as to_member_id,
        max(abs(amount_cents)) as amount_cents,
        min(txn_id) filter (where amount_cents < 0) as out_txn_id,
        min(txn_id) filter (where amount_cents > 0) as in_txn_id,
        case when count(*) = 2 then 'paired' else 'named_member' end as identified_by
    from int_transactions_classified
    group by coalesce(pair_out_txn_id, txn_id)
)

select * from final
