-- Every transaction with its account identity and resolved merchant and category.
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

int_merchants_resolved as (
    select * from {{ ref('int_merchants_resolved') }}
),

final as (
    select
        int_transactions_collapsed.*,
        int_accounts_labelled.account_id,
        int_accounts_labelled.account_label,
        coalesce(
            int_merchants_resolved.lookup_merchant,
            int_transactions_collapsed.merchant_text,
            int_merchants_resolved.cleaned_merchant,
            int_transactions_collapsed.description
        ) as merchant,
        case
            when int_merchants_resolved.lookup_merchant is not null
                then int_merchants_resolved.lookup_source
            when int_transactions_collapsed.merchant_text is not null then 'file'
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
            int_transactions_collapsed.schema_id = int_accounts_labelled.schema_id
            and int_transactions_collapsed.owner_member_id = int_accounts_labelled.owner_member_id
            and int_transactions_collapsed.account_text = int_accounts_labelled.account_text
    inner join int_merchants_resolved
        on int_transactions_collapsed.description = int_merchants_resolved.description
)

select * from final
