-- Each member's running net on every day from the first movement to the latest transaction.
-- Positive = the member is owed. Σ over members is 0 on every day (invariant 6).
with

int_balance_movements as (
    select * from {{ ref('int_balance_movements') }}
),

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

date_range as (
    select
        min(int_balance_movements.movement_date) as first_date,
        greatest(
            max(int_balance_movements.movement_date),
            (select max(transaction_date) from int_transactions_collapsed)
        ) as last_date
    from int_balance_movements
),

days as (
    select cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as balance_date
    from date_range
    where first_date is not null
),

daily_changes as (
    select
        member_id,
        movement_date,
        sum(movement_cents) as change_cents
    from int_balance_movements
    group by member_id, movement_date
),

running_totals as (
    select
        days.balance_date,
        stg_household__members.member_id,
        cast(coalesce(daily_changes.change_cents, 0) as bigint) as change_cents,
        cast(
            sum(coalesce(daily_changes.change_cents, 0)) over (
                partition by stg_household__members.member_id order by days.balance_date
            ) as bigint
        ) as net_cents
    from days
    cross join stg_household__members
    left join daily_changes
        on
            days.balance_date = daily_changes.movement_date
            and stg_household__members.member_id = daily_changes.member_id
),

final as (
    select
        *,
        {{ cents_to_amount('net_cents') }} as net_amount
    from running_totals
)

select * from final
