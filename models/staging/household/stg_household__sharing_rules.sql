with

source as (
    select * from {{ source('household', 'sharing_rules') }}
),

renamed as (
    select
        row_number as rule_order,
        rule_id,
        merchant as merchant_pattern,
        category as category_pattern,
        description as description_pattern,
        account as account_pattern,
        member as member_pattern,
        min_cost,
        max_cost,
        sharing,
        lower(policy) as policy,
        payer_share_pct
    from source
)

select * from renamed
