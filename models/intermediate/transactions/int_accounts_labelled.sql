-- Each account as each file names it, with its identity across files
-- (docs/rules.md#accounts-across-files): the label of the first labelled accounts.csv row whose
-- patterns match its account text and its file's name, else (schema, owner, account text). Rows
-- of a file that names no account have no identity of their own; int_files_linked may tie them
-- to one of the owner's accounts.
with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

stg_ingest__files as (
    select * from {{ ref('stg_ingest__files') }}
),

stg_household__accounts as (
    select * from {{ ref('stg_household__accounts') }}
),

accounts_in_files as (
    select distinct
        file_sha256,
        schema_id,
        owner_member_id,
        account_text,
        account_last4,
        institution,
        source_kind
    from int_transactions_collapsed
),

named_files as (
    select
        accounts_in_files.*,
        -- The base name: archiving moves a file, not its name.
        regexp_extract(stg_ingest__files.file_path, '[^/]*$') as file_name
    from accounts_in_files
    inner join stg_ingest__files
        on accounts_in_files.file_sha256 = stg_ingest__files.file_sha256
),

first_matching_rule as (
    select
        named_files.*,
        stg_household__accounts.account_label as configured_label
    from named_files
    left join stg_household__accounts
        on
            -- A line without a label only names an owner: the label comes from the first
            -- matching line that has one.
            stg_household__accounts.account_label is not null
            and (
                stg_household__accounts.account_pattern is null
                or (
                    named_files.account_text <> ''
                    and regexp_matches(
                        named_files.account_text, stg_household__accounts.account_pattern, 'i'
                    )
                )
            )
            and (
                stg_household__accounts.file_pattern is null
                or regexp_matches(named_files.file_name, stg_household__accounts.file_pattern, 'i')
            )
    qualify row_number() over (
        partition by named_files.file_sha256, named_files.owner_member_id, named_files.account_text
        order by stg_household__accounts.rule_order nulls last
    ) = 1
),

final as (
    select
        file_sha256,
        owner_member_id,
        account_text,
        md5(
            case
                when configured_label is not null then 'label:' || configured_label
                else 'file:' || schema_id || ':' || owner_member_id || ':' || account_text
            end
        ) as account_id,
        schema_id,
        file_name,
        account_last4,
        institution,
        coalesce(
            configured_label,
            -- An aggregator names each account by its bank and card ("CapitalOne Savor
            -- (...2463)"): that name, not the aggregator's, says which account it is.
            coalesce(
                case
                    when source_kind = 'aggregator'
                        then nullif(
                            regexp_replace(
                                account_text,
                                '\s*[(\[]?\s*(\.{2,}|…|x{2,}|\*+|ending in)\s*\d+\s*[)\]]?\s*$',
                                '',
                                'i'
                            ),
                            ''
                        )
                end,
                institution,
                schema_id
            )
            || coalesce(' …' || account_last4, '')
            || ' (' || owner_member_id || ')'
        ) as account_label,
        configured_label is not null as is_configured,
        configured_label is not null or account_text <> '' as has_account_identity
    from first_matching_rule
)

select * from final
