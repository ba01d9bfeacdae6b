-- One row per account identity: the files naming it may differ (a direct export and an
-- aggregator), but an accounts.csv label makes them one account.
with

int_accounts_labelled as (
    select * from {{ ref('int_accounts_labelled') }}
),

final as (
    select
        account_id,
        min(account_label) as account_label,
        min(owner_member_id) as owner_member_id,
        min(institution) as institution,
        min(account_last4) as account_last4,
        string_agg(distinct schema_id, ', ' order by schema_id) as schema_ids,
        bool_or(is_configured) as is_configured
    from int_accounts_labelled
    group by account_id
)

select * from final
