-- The household's members.
with

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

final as (
    select
        member_id,
        display_name,
        cast(member_order as bigint) as member_order
    from stg_household__members
)

select * from final
