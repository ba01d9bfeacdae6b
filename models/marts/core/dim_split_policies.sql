-- The household's split policies as written in household/split_policies.csv: each member's
-- weight from the day it is in force (docs/rules.md#split-arithmetic).
with

stg_household__split_policies as (
    select * from {{ ref('stg_household__split_policies') }}
),

final as (
    select
        policy,
        member_id,
        effective_from,
        weight
    from stg_household__split_policies
)

select * from final
