-- Every transaction with its account (a file that names none may be linked to one) and
-- resolved merchant and category.
-- A view: three equality joins cost less to run for each reader than writing a million wide
-- rows to disk.
{{ config(materialized='view') }}

with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

int_accounts_labelled as (
    select * from {{ ref('int_accounts_labelled') }}
),

int_files_linked as (
    select * from {{ ref('int_files_linked') }}
),

int_merchants_resolved as (
    select * from {{ ref('int_merchants_resolved') }}
),

int_payment_parties_named as (
    select * from {{ ref('int_payment_parties_named') }}
),

final as (
    select
        int_transactions_collapsed.*,
        coalesce(int_files_linked.account_id, int_accounts_labelled.account_id) as account_id,
        coalesce(int_files_linked.account_label, int_accounts_labelled.account_label)
            as account_label,
        coalesce(
            int_merchants_resolved.lookup_merchant,
            int_transactions_collapsed.merchant_text,
            int_payment_parties_named.other_party,
            int_merchants_resolved.cleaned_merchant,
            int_transactions_collapsed.description
        ) as merchant,
        case
            when int_merchants_resolved.lookup_merchant is not null
                then int_merchants_resolved.lookup_source
            when int_transactions_collapsed.merchant_text is not null then 'file'
            when int_payment_parties_named.other_party is not null then 'counterparty'
            else 'cleaned_description'
        end as merchant_source,
        coalesce(
            int_merchants_resolved.lookup_category,
            int_transactions_collapsed.category_text,
            'Uncategorized'
        ) as category,
        -int_transactions_collapsed.amount_cents as cost_cents
    from int_transactions_collapsed
    inner join int_accounts_labelled
        on
            int_transactions_collapsed.file_sha256 = int_accounts_labelled.file_sha256
            and int_transactions_collapsed.owner_member_id = int_accounts_labelled.owner_member_id
            and int_transactions_collapsed.account_text = int_accounts_labelled.account_text
    left join int_files_linked
        on
            int_transactions_collapsed.file_sha256 = int_files_linked.file_sha256
            and int_transactions_collapsed.owner_member_id = int_files_linked.owner_member_id
            and int_accounts_labelled.has_account_identity = false
    inner join int_merchants_resolved
        on int_transactions_collapsed.description = int_merchants_resolved.description
    left join int_payment_parties_named
        on int_transactions_collapsed.txn_id = int_payment_parties_named.txn_id
)

select * from final
