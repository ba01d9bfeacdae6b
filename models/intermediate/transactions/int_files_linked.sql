-- Files that name no account (no account column, no static account, no accounts.csv row for them),
-- tied to an account of their owner when their rows mirror exactly one account seen in another
-- source: at least 2 rows, and at least half of the file's rows, have an equal-cents row there
-- within the duplicate window, and no other account has any
-- (docs/rules.md#files-that-name-no-account).
with

int_account_mirrors as (
    select * from {{ ref('int_account_mirrors') }}
),

int_accounts_labelled as (
    select * from {{ ref('int_accounts_labelled') }}
),

mirrors_of_files as (
    select
        *,
        count(*) over (partition by unit_id) as accounts_mirrored
    from int_account_mirrors
    where not has_account_identity
),

linked as (
    select
        file_sha256,
        owner_member_id,
        other_account_id as account_id,
        mirrored_rows,
        unit_rows as file_rows
    from mirrors_of_files
    where accounts_mirrored = 1 and is_mirror
),

final as (
    select
        linked.file_sha256,
        linked.owner_member_id,
        linked.account_id,
        any_value(int_accounts_labelled.account_label) as account_label,
        linked.mirrored_rows,
        linked.file_rows
    from linked
    inner join int_accounts_labelled on linked.account_id = int_accounts_labelled.account_id
    group by all
)

select * from final
