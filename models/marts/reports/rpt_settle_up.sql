-- The transfers that settle everyone today: the latest day of rpt_settle_up_daily.
with

rpt_settle_up_daily as (
    select * from {{ ref('rpt_settle_up_daily') }}
),

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

latest_date as (
    select max(balance_date) as balance_date
    from fct_balances_daily
),

final as (
    select
        rpt_settle_up_daily.transfer_order,
        rpt_settle_up_daily.from_member_id,
        rpt_settle_up_daily.from_display_name,
        rpt_settle_up_daily.to_member_id,
        rpt_settle_up_daily.to_display_name,
        rpt_settle_up_daily.amount_cents,
        rpt_settle_up_daily.amount
    from rpt_settle_up_daily
    inner join latest_date on rpt_settle_up_daily.as_of_date = latest_date.balance_date
)

select * from final
