-- Invariant 9 (docs/rules.md#statement-balances): where a file states a running balance, each stated
-- balance is the previous one plus the amounts since, in the file's own row order. A warning per file
-- (its first line that disagrees), never a block: a bank's balance column is its own bookkeeping.
with

int_statement_balances_checked as (
    select * from {{ ref('int_statement_balances_checked') }}
),

final as (
    select
        file_path,
        -- The first disagreement in time: the top line, or the bottom one if newest first.
        case
            when any_value(is_newest_first) then max(line_number)
            else min(line_number)
        end as first_line_that_disagrees,
        count(*) as lines_that_disagree
    from int_statement_balances_checked
    where stated_balance_cents <> computed_balance_cents
    group by file_sha256, file_path
)

select * from final
