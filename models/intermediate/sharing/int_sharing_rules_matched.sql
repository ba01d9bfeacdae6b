-- The first matching sharing rule per transaction: the household's rules in file order, then the
-- shipped ones (§4, §9.10). Empty cells match anything; costs are dollars on |cost|, inclusive.
with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

stg_household__sharing_rules as (
    select * from {{ ref('stg_household__sharing_rules') }}
),

shipped_sharing_rules as (
    select * from {{ ref('shipped_sharing_rules') }}
),

all_rules as (
    select
        1 as source_rank,
        'household_rule' as rule_source,
        rule_order,
        rule_id,
        merchant_pattern,
        category_pattern,
        description_pattern,
        account_pattern,
        member_pattern,
        min_cost,
        max_cost,
        sharing,
        policy,
        payer_share_pct
    from stg_household__sharing_rules
    union all
    select
        2 as source_rank,
        'shipped_rule' as rule_source,
        rule_order,
        rule_id,
        merchant as merchant_pattern,
        category as category_pattern,
        description as description_pattern,
        account as account_pattern,
        member as member_pattern,
        min_cost,
        max_cost,
        sharing,
        lower(policy) as policy,
        payer_share_pct
    from shipped_sharing_rules
),

first_match as (
    select
        int_transactions_enriched.txn_id,
        all_rules.rule_source,
        all_rules.rule_id,
        all_rules.sharing,
        all_rules.policy,
        all_rules.payer_share_pct
    from int_transactions_enriched
    inner join all_rules
        on (
            all_rules.merchant_pattern is null
            or regexp_matches(int_transactions_enriched.merchant, all_rules.merchant_pattern, 'i')
        )
        and (
            all_rules.category_pattern is null
            or regexp_matches(int_transactions_enriched.category, all_rules.category_pattern, 'i')
        )
        and (
            all_rules.description_pattern is null
            or regexp_matches(
                int_transactions_enriched.description, all_rules.description_pattern, 'i'
            )
        )
        and (
            all_rules.account_pattern is null
            or regexp_matches(
                coalesce(int_transactions_enriched.account_label, int_transactions_enriched.account_text),
                all_rules.account_pattern,
                'i'
            )
        )
        and (
            all_rules.member_pattern is null
            or regexp_full_match(
                int_transactions_enriched.owner_member_id, all_rules.member_pattern, 'i'
            )
        )
        and (
            all_rules.min_cost is null
            or abs({{ cents_to_amount('int_transactions_enriched.cost_cents') }}) >= all_rules.min_cost
        )
        and (
            all_rules.max_cost is null
            or abs({{ cents_to_amount('int_transactions_enriched.cost_cents') }}) <= all_rules.max_cost
        )
    qualify row_number() over (
        partition by int_transactions_enriched.txn_id
        order by all_rules.source_rank, all_rules.rule_order
    ) = 1
)

select * from first_match
