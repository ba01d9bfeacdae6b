-- Invariant 7 (docs/rules.md#invariants): the final balance = the last running balance = an
-- independent recomputation from the share ledger, the settlements and the opening balances.
with

rpt_balance as (
    select * from {{ ref('rpt_balance') }}
),

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

fct_shares as (
    select * from {{ ref('fct_shares') }}
),

fct_settlements as (
    select * from {{ ref('fct_settlements') }}
),

stg_household__opening_balances as (
    select * from {{ ref('stg_household__opening_balances') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

clean_slate as (
    select max(as_of_date) as as_of_date
    from stg_household__opening_balances
),

last_running as (
    select
        member_id,
        net_cents
    from fct_balances_daily
    qualify balance_date = max(balance_date) over ()
),

ledger_effects as (
    select
        fct_shares.member_id,
        fct_shares.balance_effect_cents as cents
    from fct_shares
    where not fct_shares.is_before_clean_slate
    union all
    select
        fct_settlements.from_member_id as member_id,
        fct_settlements.amount_cents as cents
    from fct_settlements
    cross join clean_slate
    where fct_settlements.settlement_date >= coalesce(clean_slate.as_of_date, date '1900-01-01')
    union all
    select
        fct_settlements.to_member_id as member_id,
        -fct_settlements.amount_cents as cents
    from fct_settlements
    cross join clean_slate
    where fct_settlements.settlement_date >= coalesce(clean_slate.as_of_date, date '1900-01-01')
    union all
    select
        stg_household__opening_balances.member_id,
        stg_household__opening_balances.net_cents as cents
    from stg_household__opening_balances
    inner join clean_slate on stg_household__opening_balances.as_of_date = clean_slate.as_of_date
),

recomputed as (
    select
        stg_household__members.member_id,
        coalesce(sum(ledger_effects.cents), 0) as net_cents
    from stg_household__members
    left join ledger_effects on stg_household__members.member_id = ledger_effects.member_id
    group by stg_household__members.member_id
),

final as (
    select
        recomputed.member_id,
        recomputed.net_cents as recomputed_cents,
        last_running.net_cents as running_cents,
        rpt_balance.net_cents as statement_cents
    from recomputed
    left join last_running on recomputed.member_id = last_running.member_id
    left join rpt_balance on recomputed.member_id = rpt_balance.member_id
    where
        recomputed.net_cents <> coalesce(last_running.net_cents, 0)
        or recomputed.net_cents <> rpt_balance.net_cents
)

select * from final
