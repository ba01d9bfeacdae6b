-- Everything the weekly quality pass finds, in one place for every reader: `balance check`
-- and `balance status` list the findings, each with the command that shows more; the
-- workbook's Data_Quality sheet shows the rows with a sheet_order, in that order, with the
-- transaction or file they are about. The duplicates set aside and the files linked to an
-- account by their mirrored rows are kept here for the record, not as findings. The
-- invariants themselves are dbt tests (docs/rules.md#invariants); these are the softer signs.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

int_review_decisions_latest as (
    select * from {{ ref('int_review_decisions_latest') }}
),

int_statement_balances_checked as (
    select * from {{ ref('int_statement_balances_checked') }}
),

stg_ingest__file_attempts as (
    select * from {{ ref('stg_ingest__file_attempts') }}
),

stg_ingest__files as (
    select * from {{ ref('stg_ingest__files') }}
),

stg_ingest__file_issues as (
    select * from {{ ref('stg_ingest__file_issues') }}
),

rpt_account_links as (
    select * from {{ ref('rpt_account_links') }}
),

int_account_mirrors as (
    select * from {{ ref('int_account_mirrors') }}
),

int_accounts_labelled as (
    select * from {{ ref('int_accounts_labelled') }}
),

int_files_linked as (
    select * from {{ ref('int_files_linked') }}
),

expenses as (
    select * from fct_transactions
    where kind = 'expense' and not is_before_clean_slate
),

suspected_duplicates as (
    select
        'suspected_duplicate' as check_name,
        txn_id as subject,
        'possible copy of ' || duplicate_of_txn_id || ': ' || duplicate_reason as detail,
        'balance explain ' || txn_id || '  (answer D, or Y/N/S, in Queue_Review)' as next_step,
        true as is_finding,
        2 as sheet_order,
        'suspected duplicate' as sheet_check,
        duplicate_reason || '; answer D in Queue_Review if it is one' as sheet_detail,
        {{ transaction_finding_columns(related_txn_id='duplicate_of_txn_id') }}
    from fct_transactions
    where is_suspected_duplicate
),

duplicates_set_aside as (
    select
        'duplicate' as check_name,
        txn_id as subject,
        'a copy of ' || duplicate_of_txn_id || ': ' || duplicate_reason as detail,
        'balance explain ' || txn_id as next_step,
        false as is_finding,
        5 as sheet_order,
        'duplicate' as sheet_check,
        duplicate_reason as sheet_detail,
        {{ transaction_finding_columns(related_txn_id='duplicate_of_txn_id') }}
    from fct_transactions
    where kind = 'duplicate'
),

largest_recent_purchase as (
    -- The largest purchase at the same merchant in the 120 days up to each expense's date: one
    -- window pass, where a per-refund search of the merchant's purchases grows with their product.
    select
        *,
        max(case when cost > 0 then cost end) over (
            partition by merchant
            order by transaction_date
            range between interval 120 days preceding and current row
        ) as largest_purchase_within_120_days
    from expenses
),

refunds_without_purchase as (
    -- A refund (negative cost) with no purchase at the same merchant of at least that much in
    -- the 120 days before it: perhaps a refund of something bought before the data starts.
    select
        'refund_without_purchase' as check_name,
        txn_id as subject,
        'refund of ' || -cost || ' at ' || merchant || ' on ' || transaction_date
        || ' matches no purchase in the 120 days before' as detail,
        'balance explain ' || txn_id as next_step,
        true as is_finding,
        {{ transaction_finding_columns() }}
    from largest_recent_purchase
    where
        cost < 0
        and (merchant is null or coalesce(largest_purchase_within_120_days < -cost, true))
),

category_medians as (
    select
        category,
        median(cost) as median_cost,
        count(*) as expense_count
    from expenses
    where cost > 0
    group by category
),

unusually_large as (
    select
        'unusually_large' as check_name,
        expenses.txn_id as subject,
        expenses.cost || ' at ' || expenses.merchant || ' on ' || expenses.transaction_date
        || ' is over 5 times the usual ' || expenses.category || ' expense ('
        || round(category_medians.median_cost, 2) || ')' as detail,
        'balance explain ' || expenses.txn_id as next_step,
        true as is_finding,
        {{ transaction_finding_columns('expenses.') }}
    from expenses
    inner join category_medians on expenses.category = category_medians.category
    where
        category_medians.expense_count >= 5
        and expenses.cost >= 100
        and expenses.cost > 5 * category_medians.median_cost
),

uncategorised_merchants as (
    select
        'uncategorised_merchant' as check_name,
        merchant as subject,
        count(*) || ' expense(s) at ' || merchant || ' have no category' as detail,
        'add a row for it to household/merchant_lookup.csv' as next_step,
        true as is_finding,
        max(transaction_date) as finding_date
    from expenses
    where category = 'Uncategorized'
    group by merchant
),

statement_mismatches as (
    -- One finding per file: the first line, in time, whose stated balance is not the previous
    -- one plus the amounts since (docs/rules.md#statement-balances).
    select
        'statement_balance_mismatch' as check_name,
        file_path || ':' || line_number as subject,
        'the file states ' || {{ cents_to_amount('stated_balance_cents') }} || ' on ' || statement_date
        || ', the balance before it and the amounts since give '
        || {{ cents_to_amount('computed_balance_cents') }} as detail,
        'balance doctor ' || file_path as next_step,
        true as is_finding,
        file_path,
        statement_date as finding_date
    from int_statement_balances_checked
    where not is_matching
    qualify row_number() over (
        partition by file_sha256
        order by case when is_newest_first then -line_number else line_number end
    ) = 1
),

orphan_decisions as (
    select
        'orphan_decision' as check_name,
        decided_txn_id as subject,
        'a review decision (' || coalesce(sharing, duplicate_answer)
        || ') names no existing transaction' as detail,
        'check decisions/review_decisions.csv (was the file forgotten or re-downloaded?)' as next_step,
        true as is_finding,
        4 as sheet_order,
        'orphan review decision' as sheet_check,
        'the ' || coalesce(sharing, duplicate_answer)
        || ' decision names no transaction; it stays in the journal' as sheet_detail,
        decided_txn_id as txn_id,
        cast(decided_at as date) as finding_date,
        note as description
    from int_review_decisions_latest
    where is_orphan
),

sharing_issues as (
    select
        'sharing_issue' as check_name,
        txn_id as subject,
        sharing_issue as detail,
        'balance explain ' || txn_id || '  (fix household/split_policies.csv or the decision)' as next_step,
        true as is_finding,
        3 as sheet_order,
        'sharing cannot be applied' as sheet_check,
        sharing_issue as sheet_detail,
        {{ transaction_finding_columns() }}
    from fct_transactions
    where sharing_issue is not null
),

bad_lines as (
    select
        file_path,
        attempted_at,
        count(*) as bad_line_count
    from stg_ingest__file_issues
    group by file_path, attempted_at
),

rejected_files as (
    -- Files whose latest attempt failed and whose content never loaded.
    select
        'rejected_file' as check_name,
        stg_ingest__file_attempts.file_path as subject,
        stg_ingest__file_attempts.reason as detail,
        'balance doctor ' || stg_ingest__file_attempts.file_path as next_step,
        true as is_finding,
        1 as sheet_order,
        'rejected file' as sheet_check,
        stg_ingest__file_attempts.reason as sheet_detail,
        stg_ingest__file_attempts.file_path,
        cast(stg_ingest__file_attempts.attempted_at as date) as finding_date,
        coalesce(bad_lines.bad_line_count, 0) as bad_line_count
    from stg_ingest__file_attempts
    left join bad_lines
        on
            stg_ingest__file_attempts.file_path = bad_lines.file_path
            and stg_ingest__file_attempts.attempted_at = bad_lines.attempted_at
    anti join stg_ingest__files on stg_ingest__file_attempts.file_sha256 = stg_ingest__files.file_sha256
    qualify
        row_number() over (
            partition by stg_ingest__file_attempts.file_path
            order by stg_ingest__file_attempts.attempted_at desc
        ) = 1
        and stg_ingest__file_attempts.attempt_status = 'rejected'
),

account_names as (
    select
        account_id,
        any_value(account_label) as account_label,
        any_value(account_text) as account_text,
        any_value(account_last4) as account_last4
    from int_accounts_labelled
    where has_account_identity
    group by account_id
),

mirrored_accounts as (
    -- Duplicates are looked for within one account: two accounts of one owner whose rows
    -- mirror each other, one of them seen by an aggregator, are likely one account under two
    -- names, and every purchase in both counts twice until they share a label.
    select
        'mirrored_accounts' as check_name,
        least(named.account_label, other.account_label) || ' and '
        || greatest(named.account_label, other.account_label) as subject,
        int_account_mirrors.mirrored_rows || ' of the ' || int_account_mirrors.unit_rows
        || ' rows of ' || named.account_label || ' have an equal row in ' || other.account_label
        || ' within {{ var("duplicate_window_days") }} days: one account under two names?'
            as detail,
        'give both one label in household/accounts.csv ('
        || case
            when named.account_last4 = other.account_last4
                then 'the line ' || named.account_last4
            else
                'the lines ' || regexp_escape(named.account_text) || ',' || int_account_mirrors.owner_member_id
                || ',' || named.account_label || ' and ' || regexp_escape(other.account_text)
        end
        || ',' || int_account_mirrors.owner_member_id || ',' || named.account_label
        || '), then balance run' as next_step
    from int_account_mirrors
    inner join account_names as named on int_account_mirrors.unit_id = named.account_id
    inner join account_names as other on int_account_mirrors.other_account_id = other.account_id
    where
        int_account_mirrors.has_account_identity
        and int_account_mirrors.is_mirror
        and int_account_mirrors.involves_aggregator
    qualify row_number() over (
        partition by subject order by int_account_mirrors.mirrored_rows desc, named.account_label asc
    ) = 1
),

files_mirroring_several_accounts as (
    -- A file that names no account is linked only to the one account it mirrors.
    select
        'mirrored_accounts' as check_name,
        stg_ingest__files.file_path as subject,
        'names no account and mirrors ' || count(*) || ' accounts ('
        || string_agg(account_names.account_label, ', ' order by account_names.account_label)
        || '), so it is tied to none' as detail,
        'tie it to its account in household/accounts.csv: a line ,'
        || any_value(int_account_mirrors.owner_member_id) || ',<its account label>,'
        || regexp_escape(regexp_extract(stg_ingest__files.file_path, '[^/]*$'))
        || ' (account_pattern empty, file_pattern last), then balance run' as next_step
    from int_account_mirrors
    inner join account_names on int_account_mirrors.other_account_id = account_names.account_id
    inner join stg_ingest__files on int_account_mirrors.file_sha256 = stg_ingest__files.file_sha256
    anti join int_files_linked on int_account_mirrors.file_sha256 = int_files_linked.file_sha256
    where not int_account_mirrors.has_account_identity
    group by stg_ingest__files.file_path
    having count(*) > 1
),

mirror_findings as (
    select
        *,
        true as is_finding,
        6 as sheet_order,
        'mirrored accounts' as sheet_check,
        detail || '; ' || next_step as sheet_detail,
        subject as description
    from (
        select * from mirrored_accounts
        union all
        select * from files_mirroring_several_accounts
    ) as mirrors
),

accounts_linked as (
    -- Not a finding: what was decided, shown so that a wrong link is noticed.
    select
        'account_linked' as check_name,
        file_path || ' → ' || account_label as subject,
        link_reason as detail,
        'balance doctor ' || file_path as next_step,
        false as is_finding,
        7 as sheet_order,
        'account linked' as sheet_check,
        link_reason as sheet_detail,
        file_path
    from rpt_account_links
),

final as (
    select * from suspected_duplicates
    union all by name
    select * from duplicates_set_aside
    union all by name
    select * from refunds_without_purchase
    union all by name
    select * from unusually_large
    union all by name
    select * from uncategorised_merchants
    union all by name
    select * from statement_mismatches
    union all by name
    select * from orphan_decisions
    union all by name
    select * from sharing_issues
    union all by name
    select * from rejected_files
    union all by name
    select * from mirror_findings
    union all by name
    select * from accounts_linked
)

select * from final
