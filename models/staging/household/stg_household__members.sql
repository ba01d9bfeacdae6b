with

source as (
    select * from {{ source('household', 'members') }}
),

renamed as (
    select
        lower(trim(member_id)) as member_id,
        trim(display_name) as display_name,
        aliases as alias_pattern,
        row_number as member_order
    from source
)

select * from renamed
