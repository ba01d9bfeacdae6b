with

source as (
    select * from {{ source('household', 'opening_balances') }}
),

renamed as (
    select
        row_number as opening_row,
        as_of as as_of_date,
        member_id,
        net_amount,
        cast(net_amount * 100 as bigint) as net_cents
    from source
)

select * from renamed
