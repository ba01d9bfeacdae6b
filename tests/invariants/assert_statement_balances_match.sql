-- Invariant 9 (§6): where a file states a running balance, the running sum of its amounts
-- matches it at the end of each day.
with

int_statement_balances_checked as (
    select * from {{ ref('int_statement_balances_checked') }}
),

final as (
    select
        file_path,
        statement_date,
        line_number,
        stated_balance_cents,
        computed_balance_cents
    from int_statement_balances_checked
    where stated_balance_cents <> computed_balance_cents
)

select * from final
