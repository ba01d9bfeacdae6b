with

source as (
    select * from {{ source('household', 'split_policies') }}
),

renamed as (
    select
        row_number as policy_row,
        lower(trim(policy)) as policy,
        member_id,
        weight,
        -- A row without a start date has always been in force.
        coalesce(effective_from, date '1900-01-01') as effective_from
    from source
)

select * from renamed
