-- The weights in force for each shared or split expense, one row per expense and member
-- (docs/rules.md#weights-in-force): the policy's rows with the latest effective_from on or
-- before the policy date (the transaction date; a linked refund's, its purchase's) are the
-- complete set; a member absent from them weighs 0. `sharing_issue` says why an expense cannot
-- be allocated (it then stays undecided).
with

int_transactions_classified as (
    select * from {{ ref('int_transactions_classified') }}
    where sharing in ('shared', 'split')
),

stg_household__split_policies as (
    select * from {{ ref('stg_household__split_policies') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

latest_start as (
    select
        int_transactions_classified.txn_id,
        max(stg_household__split_policies.effective_from) as effective_from
    from int_transactions_classified
    inner join stg_household__split_policies
        on
            int_transactions_classified.policy = stg_household__split_policies.policy
            and int_transactions_classified.policy_date >= stg_household__split_policies.effective_from
    group by int_transactions_classified.txn_id
),

member_weights as (
    select
        int_transactions_classified.txn_id,
        stg_household__members.member_id,
        int_transactions_classified.owner_member_id as payer_member_id,
        latest_start.effective_from as policy_effective_from,
        coalesce(stg_household__split_policies.weight, 0) as weight
    from int_transactions_classified
    cross join stg_household__members
    left join latest_start
        on int_transactions_classified.txn_id = latest_start.txn_id
    left join stg_household__split_policies
        on
            int_transactions_classified.policy = stg_household__split_policies.policy
            and latest_start.effective_from = stg_household__split_policies.effective_from
            and stg_household__members.member_id = stg_household__split_policies.member_id
),

totals as (
    select
        txn_id,
        sum(weight) as total_weight,
        sum(weight) filter (where member_id <> payer_member_id) as other_weight
    from member_weights
    group by txn_id
),

final as (
    select
        member_weights.*,
        totals.total_weight,
        totals.other_weight,
        case
            when member_weights.policy_effective_from is null
                then
                    'policy ' || int_transactions_classified.policy || ' has no rows in force on '
                    || int_transactions_classified.policy_date
            when totals.total_weight = 0
                then 'policy ' || int_transactions_classified.policy || ' weighs every member 0'
            when
                int_transactions_classified.sharing = 'split'
                and int_transactions_classified.payer_share_pct is null
                then 'split without a payer share %'
            when
                int_transactions_classified.sharing = 'split'
                and int_transactions_classified.payer_share_pct < 100
                and coalesce(totals.other_weight, 0) = 0
                then
                    'split leaves ' || (100 - int_transactions_classified.payer_share_pct)
                    || ' % to other members, but policy ' || int_transactions_classified.policy
                    || ' weighs none of them'
        end as sharing_issue
    from member_weights
    inner join totals on member_weights.txn_id = totals.txn_id
    inner join int_transactions_classified
        on member_weights.txn_id = int_transactions_classified.txn_id
)

select * from final
