-- The weights each shared or split expense is divided by: the rows of its policy in force on
-- its policy date, one row per expense and member (docs/rules.md#split-arithmetic). What
-- `balance explain` shows beside the shares; a view, read one expense at a time.
{{ config(materialized='view') }}

with

int_policy_weights_applied as (
    select * from {{ ref('int_policy_weights_applied') }}
),

final as (
    select
        txn_id,
        member_id,
        policy_effective_from,
        weight
    from int_policy_weights_applied
)

select * from final
