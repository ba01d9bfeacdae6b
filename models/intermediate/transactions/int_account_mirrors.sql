-- How far the rows of each account mirror another account of the same owner seen in another source:
-- how many have an equal-cents row there within the duplicate window
-- (docs/rules.md#files-that-name-no-account). A file that names no account is a unit of its own
-- here, so that it can be tied to the one account it mirrors; two accounts that mirror each other
-- but are not one account are a finding.
with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

int_accounts_labelled as (
    select * from {{ ref('int_accounts_labelled') }}
),

located_rows as (
    select
        int_transactions_collapsed.txn_id,
        int_transactions_collapsed.file_sha256,
        int_transactions_collapsed.schema_id,
        int_transactions_collapsed.source_kind,
        int_transactions_collapsed.owner_member_id,
        int_transactions_collapsed.transaction_date,
        int_transactions_collapsed.amount_cents,
        int_accounts_labelled.account_id,
        int_accounts_labelled.has_account_identity,
        case
            when int_accounts_labelled.has_account_identity then int_accounts_labelled.account_id
            else
                'file:' || int_transactions_collapsed.file_sha256
                || ':' || int_transactions_collapsed.owner_member_id
        end as unit_id
    from int_transactions_collapsed
    inner join int_accounts_labelled
        on
            int_transactions_collapsed.file_sha256 = int_accounts_labelled.file_sha256
            and int_transactions_collapsed.owner_member_id = int_accounts_labelled.owner_member_id
            and int_transactions_collapsed.account_text = int_accounts_labelled.account_text
    where int_transactions_collapsed.amount_cents <> 0
),

units as (
    select
        unit_id,
        any_value(owner_member_id) as owner_member_id,
        any_value(has_account_identity) as has_account_identity,
        case when not any_value(has_account_identity) then any_value(file_sha256) end
            as file_sha256,
        bool_or(source_kind = 'aggregator') as has_aggregator_rows,
        count(*) as unit_rows
    from located_rows
    group by unit_id
),

rows_with_account_identity as (
    select
        *,
        {{ day_bucket('transaction_date') }} + unnest([-1, 0, 1]) as near_day_bucket
    from located_rows
    where has_account_identity
),

mirrored_rows as (
    select distinct
        unit_row.unit_id,
        other_row.account_id as other_account_id,
        unit_row.txn_id
    from located_rows as unit_row
    inner join rows_with_account_identity as other_row
        on
            unit_row.owner_member_id = other_row.owner_member_id
            and unit_row.amount_cents = other_row.amount_cents
            and {{ day_bucket('unit_row.transaction_date') }} = other_row.near_day_bucket
            and unit_row.schema_id <> other_row.schema_id
            and unit_row.unit_id <> other_row.unit_id
            and abs(date_diff('day', unit_row.transaction_date, other_row.transaction_date))
            <= {{ var('duplicate_window_days') }}
),

mirror_counts as (
    select
        unit_id,
        other_account_id,
        count(*) as mirrored_rows
    from mirrored_rows
    group by unit_id, other_account_id
),

final as (
    select
        mirror_counts.unit_id,
        mirror_counts.other_account_id,
        units.owner_member_id,
        units.has_account_identity,
        units.file_sha256,
        units.has_aggregator_rows or other_units.has_aggregator_rows as involves_aggregator,
        mirror_counts.mirrored_rows,
        units.unit_rows,
        mirror_counts.mirrored_rows >= 2
        and mirror_counts.mirrored_rows * 2 >= units.unit_rows as is_mirror
    from mirror_counts
    inner join units on mirror_counts.unit_id = units.unit_id
    inner join units as other_units on mirror_counts.other_account_id = other_units.unit_id
)

select * from final
