with

source as (
    select * from {{ source('household', 'accounts') }}
),

renamed as (
    select
        row_number as rule_order,
        account_pattern,
        member_id,
        account_label,
        file_pattern
    from source
)

select * from renamed
