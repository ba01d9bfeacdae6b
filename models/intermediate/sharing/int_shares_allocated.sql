-- Each member's share of each shared or split expense, in integer cents
-- (docs/rules.md#split-arithmetic). Every member's exact share is numerator / denominator over |cost|;
-- shares are floored, and the leftover cents go one each by largest remainder, ties to the larger
-- md5(txn_id:member_id). The sign is applied last, so a refund is allocated exactly like a purchase.
with

int_transactions_classified as (
    select * from {{ ref('int_transactions_classified') }}
),

int_policy_weights_applied as (
    select * from {{ ref('int_policy_weights_applied') }}
),

allocatable as (
    select
        int_policy_weights_applied.txn_id,
        int_policy_weights_applied.member_id,
        int_policy_weights_applied.payer_member_id,
        int_policy_weights_applied.member_id = int_policy_weights_applied.payer_member_id as is_payer,
        -- Weights carry up to 4 decimals: scale them to integers so all arithmetic is exact.
        cast(int_policy_weights_applied.weight * 10000 as hugeint) as weight_units,
        cast(int_policy_weights_applied.total_weight * 10000 as hugeint) as total_units,
        -- No other member weighed is valid only for a split at 100 % (the payer bears all):
        -- one unit keeps the split's fraction defined, and the others' shares 0.
        greatest(cast(coalesce(int_policy_weights_applied.other_weight, 0) * 10000 as hugeint), 1)
            as other_units,
        int_transactions_classified.sharing,
        cast(coalesce(int_transactions_classified.payer_share_pct, 0) * 100 as hugeint) as payer_basis_points,
        int_transactions_classified.cost_cents,
        cast(abs(int_transactions_classified.cost_cents) as hugeint) as abs_cost_cents,
        -- A ledger's shared part X: the payer bears cost − X alone, X follows the policy.
        cast(
            least(
                abs(
                    coalesce(
                        int_transactions_classified.shared_amount_cents, abs(int_transactions_classified.cost_cents)
                    )
                ),
                abs(int_transactions_classified.cost_cents)
            )
            as hugeint
        ) as abs_shared_cents
    from int_policy_weights_applied
    inner join int_transactions_classified
        on int_policy_weights_applied.txn_id = int_transactions_classified.txn_id
    where int_policy_weights_applied.sharing_issue is null
),

exact_shares as (
    select
        *,
        case
            when sharing = 'split' and is_payer
                then abs_cost_cents * payer_basis_points * other_units
            when sharing = 'split'
                then abs_cost_cents * (10000 - payer_basis_points) * weight_units
            when is_payer
                then (abs_cost_cents - abs_shared_cents) * total_units + abs_shared_cents * weight_units
            else abs_shared_cents * weight_units
        end as share_numerator,
        case
            when sharing = 'split' then 10000 * other_units
            else total_units
        end as share_denominator
    from allocatable
),

floored as (
    select
        *,
        share_numerator // share_denominator as floor_cents,
        share_numerator % share_denominator as share_remainder
    from exact_shares
),

leftovers as (
    select
        txn_id,
        any_value(abs_cost_cents) - sum(floor_cents) as leftover_cents
    from floored
    group by txn_id
),

ranked as (
    -- Only expenses with leftover cents need the remainder order and its md5 tie-break.
    select
        floored.txn_id,
        floored.member_id,
        leftovers.leftover_cents,
        row_number() over (
            partition by floored.txn_id
            order by floored.share_remainder desc, md5(floored.txn_id || ':' || floored.member_id) desc
        ) as remainder_rank
    from floored
    inner join leftovers on floored.txn_id = leftovers.txn_id
    where leftovers.leftover_cents > 0
),

final as (
    select
        floored.txn_id,
        floored.member_id,
        floored.payer_member_id,
        floored.is_payer,
        floored.cost_cents,
        cast(
            sign(floored.cost_cents)
            * (floored.floor_cents + case when ranked.remainder_rank <= ranked.leftover_cents then 1 else 0 end)
            as bigint
        ) as share_cents
    from floored
    left join ranked
        on
            floored.txn_id = ranked.txn_id
            and floored.member_id = ranked.member_id
)

select * from final
