-- The first matching sharing rule per transaction: the household's rules in file order, then the
-- shipped ones (docs/rules.md#sharing-rules). Empty cells match anything; costs are dollars on
-- |cost|, inclusive. The rules are read while the model runs and written into it as one CASE with
-- constant patterns (see macros/rows_of.sql), so each regex is compiled once.
{%- set all_rules_sql %}
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
    from {{ ref('stg_household__sharing_rules') }}
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
    from {{ ref('shipped_sharing_rules') }}
{%- endset %}
{%- set ordered_rules -%}
    select * from ({{ all_rules_sql }}) as rules order by source_rank, rule_order
{%- endset %}
{%- set rule_conditions = [] %}
{%- for rule in rows_of(ordered_rules) %}
    {%- do rule_conditions.append(sharing_rule_conditions(rule)) %}
{%- endfor %}

with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

all_rules as (
    select
        *,
        row_number() over (order by source_rank, rule_order) as rule_position
    from ({{ all_rules_sql }}) as rules
),

first_match as (
    select
        txn_id,
        {{ first_true_position(rule_conditions) }} as rule_position
    from int_transactions_enriched
),

final as (
    select
        first_match.txn_id,
        all_rules.rule_source,
        all_rules.rule_id,
        all_rules.sharing,
        all_rules.policy,
        all_rules.payer_share_pct
    from first_match
    inner join all_rules on first_match.rule_position = all_rules.rule_position
)

select * from final
