-- Each account as files name it, with its identity across files: the label of the first
-- accounts.csv row whose pattern is found in its text, else (schema, owner, account text).
with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

stg_household__accounts as (
    select * from {{ ref('stg_household__accounts') }}
),

accounts_in_files as (
    select distinct
        schema_id,
        owner_member_id,
        account_text,
        account_last4,
        institution
    from int_transactions_collapsed
),

first_matching_rule as (
    select
        accounts_in_files.*,
        stg_household__accounts.account_label as configured_label
    from accounts_in_files
    left join stg_household__accounts
        on
            accounts_in_files.account_text <> ''
            and regexp_matches(
                accounts_in_files.account_text, stg_household__accounts.account_pattern, 'i'
            )
    qualify row_number() over (
        partition by
            accounts_in_files.schema_id,
            accounts_in_files.owner_member_id,
            accounts_in_files.account_text
        order by stg_household__accounts.rule_order nulls last
    ) = 1
),

final as (
    select
        md5(
            case
                when configured_label is not null then 'label:' || configured_label
                else 'file:' || schema_id || ':' || owner_member_id || ':' || account_text
            end
        ) as account_id,
        schema_id,
        owner_member_id,
        account_text,
        account_last4,
        institution,
        coalesce(
            configured_label,
            coalesce(institution, schema_id)
            || coalesce(' …' || account_last4, '')
            || ' (' || owner_member_id || ')'
        ) as account_label,
        configured_label is not null as is_configured
    from first_matching_rule
)

select * from final
