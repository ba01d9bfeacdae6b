-- Invariant 5 (docs/rules.md#invariants): the shares of each shared or split expense sum
-- exactly to its cost and follow its decision. Recomputed here from the decided sharing value,
-- payer_share_pct, the ledger's shared part and the policy weights in force on the policy date
-- (for a linked refund, its purchase's date, docs/rules.md#refunds), without the allocation
-- model: each member's exact share is numerator / denominator of |cost|; a share is its floor
-- or one cent more, and the cents above the floors go to the largest remainders (ties to the
-- larger md5(txn_id:member_id)).
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_shares as (
    select * from {{ ref('fct_shares') }}
),

int_transactions_classified as (
    select * from {{ ref('int_transactions_classified') }}
),

stg_household__split_policies as (
    select * from {{ ref('stg_household__split_policies') }}
),

stg_household__members as (
    select * from {{ ref('stg_household__members') }}
),

decided as (
    select
        fct_transactions.txn_id,
        fct_transactions.payer_member_id,
        int_transactions_classified.policy_date,
        fct_transactions.sharing,
        fct_transactions.policy,
        fct_transactions.amount_cents,
        cast(abs(fct_transactions.amount_cents) as hugeint) as cost_units,
        cast(round(coalesce(fct_transactions.payer_share_pct, 0) * 100) as hugeint) as payer_basis_points,
        cast(
            least(
                abs(coalesce(int_transactions_classified.shared_amount_cents, fct_transactions.amount_cents)),
                abs(fct_transactions.amount_cents)
            ) as hugeint
        ) as shared_units
    from fct_transactions
    inner join int_transactions_classified
        on fct_transactions.txn_id = int_transactions_classified.txn_id
    where fct_transactions.sharing in ('shared', 'split')
),

policy_in_force as (
    select
        decided.txn_id,
        max(stg_household__split_policies.effective_from) as effective_from
    from decided
    inner join stg_household__split_policies
        on
            decided.policy = stg_household__split_policies.policy
            and decided.policy_date >= stg_household__split_policies.effective_from
    group by decided.txn_id
),

-- Each member's weight in each version of a policy, in units of 1/10000.
policy_weight_units as (
    select
        stg_household__split_policies.policy,
        stg_household__split_policies.effective_from,
        stg_household__split_policies.member_id,
        cast(round(stg_household__split_policies.weight * 10000) as hugeint) as weight_units
    from stg_household__split_policies
    inner join stg_household__members
        on stg_household__split_policies.member_id = stg_household__members.member_id
),

-- The totals depend on the policy version and the payer only: computed on the few versions,
-- then joined to each expense, not summed again over every expense's members.
policy_weight_totals as (
    select
        policy,
        effective_from,
        sum(weight_units) as total_weight_units
    from policy_weight_units
    group by policy, effective_from
),

expense_weight_totals as (
    select
        decided.txn_id,
        policy_in_force.effective_from,
        coalesce(policy_weight_totals.total_weight_units, 0) as total_weight_units,
        -- A split at 100 % under a policy that weighs only the payer: the payer bears all, and
        -- one unit keeps the fraction defined.
        greatest(
            coalesce(policy_weight_totals.total_weight_units, 0) - coalesce(payer_weight.weight_units, 0), 1
        ) as others_weight_units
    from decided
    inner join policy_in_force on decided.txn_id = policy_in_force.txn_id
    left join policy_weight_totals
        on
            decided.policy = policy_weight_totals.policy
            and policy_in_force.effective_from = policy_weight_totals.effective_from
    left join policy_weight_units as payer_weight
        on
            decided.policy = payer_weight.policy
            and policy_in_force.effective_from = payer_weight.effective_from
            and decided.payer_member_id = payer_weight.member_id
),

weight_totals as (
    select
        decided.*,
        expense_weight_totals.total_weight_units,
        expense_weight_totals.others_weight_units,
        stg_household__members.member_id,
        stg_household__members.member_id = decided.payer_member_id as is_payer,
        coalesce(policy_weight_units.weight_units, 0) as weight_units
    from decided
    inner join expense_weight_totals on decided.txn_id = expense_weight_totals.txn_id
    cross join stg_household__members
    left join policy_weight_units
        on
            decided.policy = policy_weight_units.policy
            and expense_weight_totals.effective_from = policy_weight_units.effective_from
            and stg_household__members.member_id = policy_weight_units.member_id
    -- An out-of-range percentage is invariant 10's finding: nothing to recompute from.
    where decided.payer_basis_points between 0 and 10000
),

exact as (
    select
        *,
        case
            when sharing = 'split' and is_payer
                then cost_units * payer_basis_points * others_weight_units
            when sharing = 'split' then cost_units * (10000 - payer_basis_points) * weight_units
            when is_payer
                then (cost_units - shared_units) * total_weight_units + shared_units * weight_units
            else shared_units * weight_units
        end as numerator,
        case
            when sharing = 'split' then 10000 * others_weight_units
            else total_weight_units
        end as denominator
    from weight_totals
),

compared as (
    select
        exact.txn_id,
        exact.member_id,
        exact.amount_cents,
        exact.numerator // exact.denominator as floor_cents,
        exact.numerator % exact.denominator as share_remainder,
        coalesce(fct_shares.share_cents, 0) * -sign(exact.amount_cents) as share_units,
        fct_shares.txn_id is null as is_missing
    from exact
    left join fct_shares
        on
            exact.txn_id = fct_shares.txn_id
            and exact.member_id = fct_shares.member_id
),

-- Per expense: the total, and the smallest remainder that got a leftover cent beside the
-- largest that did not. Grouped, not windowed: one pass over the shares.
expense_rounding as (
    select
        txn_id,
        any_value(amount_cents) as amount_cents,
        sum(share_units) as shares_total,
        min(share_remainder) filter (where share_units = floor_cents + 1) as smallest_rounded_up,
        max(share_remainder) filter (where share_units = floor_cents) as largest_rounded_down
    from compared
    group by txn_id
),

-- Equal remainders on both sides: the larger hash should have got the cent. Only these few
-- expenses pay for the hash.
tie_breaks as (
    select
        compared.txn_id,
        min(md5(compared.txn_id || ':' || compared.member_id)) filter (
            where compared.share_units = compared.floor_cents + 1
        ) as smallest_hash_rounded_up,
        max(md5(compared.txn_id || ':' || compared.member_id)) filter (
            where compared.share_units = compared.floor_cents
        ) as largest_hash_rounded_down
    from compared
    inner join expense_rounding
        on
            compared.txn_id = expense_rounding.txn_id
            and compared.share_remainder = expense_rounding.smallest_rounded_up
            and expense_rounding.smallest_rounded_up = expense_rounding.largest_rounded_down
    group by compared.txn_id
),

member_problems as (
    select
        txn_id,
        member_id,
        case
            when is_missing then 'no share row'
            else 'share is not the exact share rounded'
        end as problem
    from compared
    where is_missing or share_units - floor_cents not in (0, 1)
),

expense_problems as (
    select
        expense_rounding.txn_id,
        null as member_id,
        case
            when expense_rounding.shares_total <> abs(expense_rounding.amount_cents)
                then
                    'shares sum to ' || expense_rounding.shares_total
                    || ', not ' || abs(expense_rounding.amount_cents)
            else 'a smaller remainder got the leftover cent'
        end as problem
    from expense_rounding
    left join tie_breaks on expense_rounding.txn_id = tie_breaks.txn_id
    where
        expense_rounding.shares_total <> abs(expense_rounding.amount_cents)
        or expense_rounding.smallest_rounded_up < expense_rounding.largest_rounded_down
        or tie_breaks.smallest_hash_rounded_up < tie_breaks.largest_hash_rounded_down
),

undecided_with_shares as (
    select distinct
        fct_shares.txn_id,
        null as member_id,
        'shares for an expense that is not shared or split' as problem
    from fct_shares
    anti join decided on fct_shares.txn_id = decided.txn_id
),

final as (
    select * from undecided_with_shares
    union all
    select * from member_problems
    union all
    select * from expense_problems
)

select * from final
