-- The transfers that would settle everyone on each day (docs/rules.md#settle-up): repeatedly, the
-- largest debtor pays the largest creditor as much as both allow (ties by member_id), so n members
-- need at most n − 1 transfers. Every day's balances are settled in the same recursion, so the
-- settle-up as of any past date can be read (`balance settle --as-of`).
with recursive

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

owed_or_owing as (
    select
        balance_date,
        member_id,
        net_cents
    from fct_balances_daily
    where net_cents <> 0
),

-- RF01 reads struct field access (`chosen.debtor.member_id`) as schema.table.column.
-- noqa: disable=RF01
greedy_steps (balance_date, step, remaining, from_member_id, to_member_id, amount_cents) as (
    select
        balance_date,
        0 as step,
        list({'member_id': member_id, 'net_cents': net_cents}) as remaining,
        cast(null as varchar) as from_member_id,
        cast(null as varchar) as to_member_id,
        cast(null as bigint) as amount_cents
    from owed_or_owing
    group by balance_date
    union all
    select
        chosen.balance_date,
        chosen.step + 1 as step,
        list_transform(
            chosen.remaining,
            balance -> {
                'member_id': balance.member_id,
                'net_cents': balance.net_cents
                + case
                    when balance.member_id = chosen.debtor.member_id then chosen.transfer_cents
                    when balance.member_id = chosen.creditor.member_id then -chosen.transfer_cents
                    else 0
                end
            }
        ) as remaining,
        chosen.debtor.member_id as from_member_id,
        chosen.creditor.member_id as to_member_id,
        chosen.transfer_cents as amount_cents
    from (
        select
            largest.balance_date,
            largest.step,
            largest.remaining,
            largest.debtor,
            largest.creditor,
            least(-largest.debtor.net_cents, -largest.creditor.negative_net_cents) as transfer_cents
        from (
            select
                balance_date,
                step,
                remaining,
                list_sort(list_transform(
                    list_filter(remaining, balance -> balance.net_cents < 0),
                    balance -> {'net_cents': balance.net_cents, 'member_id': balance.member_id}
                ))[1] as debtor,
                list_sort(list_transform(
                    list_filter(remaining, balance -> balance.net_cents > 0),
                    balance -> {'negative_net_cents': -balance.net_cents, 'member_id': balance.member_id}
                ))[1] as creditor
            from greedy_steps
        ) as largest
        where largest.debtor is not null and largest.creditor is not null
    ) as chosen
),
-- noqa: enable=RF01

final as (
    select
        greedy_steps.balance_date as as_of_date,
        cast(greedy_steps.step as bigint) as transfer_order,
        greedy_steps.from_member_id,
        payer.display_name as from_display_name,
        greedy_steps.to_member_id,
        payee.display_name as to_display_name,
        greedy_steps.amount_cents,
        {{ cents_to_amount('greedy_steps.amount_cents') }} as amount
    from greedy_steps
    inner join stg_household__members as payer on greedy_steps.from_member_id = payer.member_id
    inner join stg_household__members as payee on greedy_steps.to_member_id = payee.member_id
    where greedy_steps.step > 0
)

select * from final
