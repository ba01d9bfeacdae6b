-- Payments that pair up (docs/rules.md#settlements): a payment-like out-leg and in-leg with
-- equal cents within the window, nearest first. Payment-like: a settlement or transfer rule
-- matches, the row comes from a payment app's export, or its description names a payment app or
-- a transfer. Different owners: a settlement between members; the same owner on two different
-- accounts: a transfer. Rows decided otherwise (review, file, a rule saying
-- shared/personal/split/ignore), duplicates and payments to or from a known non-member never
-- pair. A leg that names a member pairs only with a leg in that member's accounts; a leg a
-- transfer rule matched, only within its owner's.
{#- The shipped payment patterns as one constant regex, compiled once (macros/rows_of.sql). -#}
{%- set alternatives = [] %}
{%- for row in rows_of("select pattern from " ~ ref('shipped_payment_patterns') ~ " order by pattern_order") %}
    {%- do alternatives.append('(?:' ~ row['pattern'] ~ ')') %}
{%- endfor %}
{%- set names_a_payment = (
    "regexp_matches(int_transactions_enriched.description, "
    ~ sql_string(alternatives | join('|')) ~ ", 'i')"
) if alternatives else 'false' %}

with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

int_sharing_rules_matched as (
    select * from {{ ref('int_sharing_rules_matched') }}
),

int_review_decisions_latest as (
    select * from {{ ref('int_review_decisions_latest') }}
),

int_duplicates_matched as (
    select * from {{ ref('int_duplicates_matched') }}
),

int_counterparties_named as (
    select * from {{ ref('int_counterparties_named') }}
),

payment_like as (
    select
        int_transactions_enriched.txn_id,
        int_transactions_enriched.owner_member_id,
        int_transactions_enriched.account_id,
        int_transactions_enriched.transaction_date,
        int_transactions_enriched.amount_cents,
        int_counterparties_named.counterparty_member_id,
        coalesce(int_sharing_rules_matched.sharing = 'transfer', false) as is_transfer_rule
    from int_transactions_enriched
    left join int_sharing_rules_matched
        on int_transactions_enriched.txn_id = int_sharing_rules_matched.txn_id
    left join int_review_decisions_latest
        on int_transactions_enriched.txn_id = int_review_decisions_latest.txn_id
    left join int_duplicates_matched
        on int_transactions_enriched.txn_id = int_duplicates_matched.txn_id
    left join int_counterparties_named
        on int_transactions_enriched.txn_id = int_counterparties_named.txn_id
    where
        int_duplicates_matched.txn_id is null
        and not (
            coalesce(int_counterparties_named.is_non_member, false)
            and coalesce(int_sharing_rules_matched.sharing, '') <> 'transfer'
        )
        and int_review_decisions_latest.txn_id is null
        and int_transactions_enriched.static_sharing is null
        and int_transactions_enriched.shared_amount_cents is null
        and int_transactions_enriched.amount_cents <> 0
        and (
            int_sharing_rules_matched.sharing in ('settlement', 'transfer')
            or (
                int_sharing_rules_matched.sharing is null
                and int_transactions_enriched.source_kind = 'payment_app'
            )
            or (
                int_sharing_rules_matched.sharing is null
                and {{ names_a_payment }}
            )
        )
),

candidates as (
    select
        out_leg.txn_id as left_id,
        in_leg.txn_id as right_id,
        -- Nearest first, then the earlier out-leg; ids break the remaining ties.
        [
            abs(date_diff('day', out_leg.transaction_date, in_leg.transaction_date)),
            date_diff('day', date '1900-01-01', out_leg.transaction_date)
        ] as sort_key
    from payment_like as out_leg
    inner join payment_like as in_leg
        on
            out_leg.amount_cents < 0
            and in_leg.amount_cents = -out_leg.amount_cents
            and abs(date_diff('day', out_leg.transaction_date, in_leg.transaction_date))
            <= {{ var('pairing_window_days') }}
            and (
                out_leg.owner_member_id <> in_leg.owner_member_id
                or out_leg.account_id <> in_leg.account_id
            )
            and (
                not (out_leg.is_transfer_rule or in_leg.is_transfer_rule)
                or out_leg.owner_member_id = in_leg.owner_member_id
            )
            and coalesce(out_leg.counterparty_member_id = in_leg.owner_member_id, true)
            and coalesce(out_leg.owner_member_id = in_leg.counterparty_member_id, true)
),

{{ match_nearest_pairs('candidates') }},

final as (
    select
        matched_pairs.left_id as out_txn_id,
        matched_pairs.right_id as in_txn_id,
        out_leg.owner_member_id as from_member_id,
        in_leg.owner_member_id as to_member_id,
        out_leg.transaction_date as paired_date,
        -out_leg.amount_cents as amount_cents,
        out_leg.owner_member_id <> in_leg.owner_member_id as is_settlement
    from matched_pairs
    inner join payment_like as out_leg on matched_pairs.left_id = out_leg.txn_id
    inner join payment_like as in_leg on matched_pairs.right_id = in_leg.txn_id
)

select * from final
