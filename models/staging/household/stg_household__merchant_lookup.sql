with

source as (
    select * from {{ source('household', 'merchant_lookup') }}
),

renamed as (
    select
        row_number as lookup_order,
        pattern,
        merchant,
        category
    from source
)

select * from renamed
