-- The current statement, one row per member: the net balance, who owes whom in words, and how
-- many expenses (and how much) still wait for a decision.
with

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

rpt_settle_up as (
    select * from {{ ref('rpt_settle_up') }}
),

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

latest_date as (
    select max(balance_date) as balance_date
    from fct_balances_daily
),

latest_balances as (
    select
        fct_balances_daily.member_id,
        fct_balances_daily.net_cents,
        fct_balances_daily.balance_date
    from fct_balances_daily
    inner join latest_date on fct_balances_daily.balance_date = latest_date.balance_date
),

statement as (
    select
        coalesce(
            string_agg(
                from_display_name || ' owes ' || to_display_name || ' '
                || {{ format_dollars('amount_cents') }},
                '; ' order by transfer_order
            ),
            'All settled up.'
        ) as statement
    from rpt_settle_up
),

pending as (
    select
        count(*) as pending_review_count,
        cast(coalesce(sum(cost_cents_for_pending), 0) as bigint) as pending_cents
    from (
        select -amount_cents as cost_cents_for_pending
        from fct_transactions
        where is_pending_review
    ) as undecided
),

final as (
    select
        stg_household__members.member_id,
        stg_household__members.display_name,
        cast(coalesce(latest_balances.net_cents, 0) as bigint) as net_cents,
        {{ cents_to_amount('coalesce(latest_balances.net_cents, 0)') }} as net_amount,
        statement.statement,
        cast(pending.pending_review_count as bigint) as pending_review_count,
        {{ cents_to_amount('pending.pending_cents') }} as pending_amount,
        latest_date.balance_date as as_of_date
    from stg_household__members
    cross join statement
    cross join pending
    cross join latest_date
    left join latest_balances
        on stg_household__members.member_id = latest_balances.member_id
)

select * from final
