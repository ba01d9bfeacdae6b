-- The transfers that settle everyone (§9.23): repeatedly, the largest debtor pays the largest
-- creditor as much as both allow (ties by member_id), so n members need at most n − 1 transfers.
with recursive

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

current_balances as (
    select
        member_id,
        net_cents
    from fct_balances_daily
    where balance_date = (select max(balance_date) from fct_balances_daily)
        and net_cents <> 0
),

greedy_steps (step, remaining, from_member_id, to_member_id, amount_cents) as (
    select
        0 as step,
        list({'member_id': member_id, 'net_cents': net_cents}) as remaining,
        null::varchar as from_member_id,
        null::varchar as to_member_id,
        null::bigint as amount_cents
    from current_balances
    union all
    select
        step + 1 as step,
        list_transform(
            remaining,
            balance -> {
                'member_id': balance.member_id,
                'net_cents': balance.net_cents
                + case
                    when balance.member_id = debtor.member_id then transfer_cents
                    when balance.member_id = creditor.member_id then -transfer_cents
                    else 0
                end
            }
        ) as remaining,
        debtor.member_id as from_member_id,
        creditor.member_id as to_member_id,
        transfer_cents as amount_cents
    from (
        select
            step,
            remaining,
            debtor,
            creditor,
            least(-debtor.net_cents, -creditor.negative_net_cents) as transfer_cents
        from (
            select
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
        where debtor is not null and creditor is not null
    ) as chosen
),

final as (
    select
        greedy_steps.step as transfer_order,
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
