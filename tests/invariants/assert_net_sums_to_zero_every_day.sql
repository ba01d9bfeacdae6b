-- Invariant 6 (docs/rules.md#invariants): the members' running balances sum to zero on every day.
with

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

final as (
    select
        balance_date,
        sum(net_cents) as total_net_cents
    from fct_balances_daily
    group by balance_date
    having sum(net_cents) <> 0
)

select * from final
