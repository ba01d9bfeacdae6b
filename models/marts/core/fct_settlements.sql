-- Money between members, each settlement once.
with

int_settlements_identified as (
    select * from {{ ref('int_settlements_identified') }}
),

final as (
    select
        settlement_id,
        settlement_date,
        from_member_id,
        to_member_id,
        amount_cents,
        {{ cents_to_amount('amount_cents') }} as amount,
        out_txn_id,
        in_txn_id,
        identified_by
    from int_settlements_identified
)

select * from final
