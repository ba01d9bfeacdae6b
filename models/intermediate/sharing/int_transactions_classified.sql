-- Kind and sharing decision of every transaction, in the order of docs/rules.md#sharing:
-- duplicates, review decision, the row's own data, household rule, shipped rule, payment pairing,
-- default. `decision_source` records what decided it.
{%- set members = rows_of(
    "select member_id, coalesce(alias_pattern, member_id) as alias from "
    ~ ref('stg_household__members') ~ " order by member_order"
) %}

with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

int_duplicates_matched as (
    select * from {{ ref('int_duplicates_matched') }}
),

int_review_decisions_latest as (
    select * from {{ ref('int_review_decisions_latest') }}
    where not is_orphan
),

int_sharing_rules_matched as (
    select * from {{ ref('int_sharing_rules_matched') }}
),

int_payments_paired as (
    select * from {{ ref('int_payments_paired') }}
),

int_counterparties_named as (
    select * from {{ ref('int_counterparties_named') }}
),

paired_legs as (
    select
        out_txn_id as txn_id,
        is_settlement,
        to_member_id as counterparty_member_id,
        out_txn_id as pair_out_txn_id
    from int_payments_paired
    union all
    select
        in_txn_id as txn_id,
        is_settlement,
        from_member_id as counterparty_member_id,
        out_txn_id as pair_out_txn_id
    from int_payments_paired
),

named_members as (
    -- The other members a description names, by their aliases as whole words.
    select
        txn_id,
        owner_member_id,
        list_filter(
            {{ member_ids_named('description', members) }}, named -> named <> owner_member_id
        ) as named_member_ids
    from int_transactions_enriched
),

named_counterparty as (
    -- An unpaired settlement leg counts only if its counterparty is exactly one other member
    -- (docs/rules.md#settlements): the one its counterparty column or captured name gives; for a
    -- row with neither, the one other member its description names.
    select
        named_members.txn_id,
        case
            when int_counterparties_named.txn_id is not null
                then nullif(int_counterparties_named.counterparty_member_id, named_members.owner_member_id)
            when len(named_members.named_member_ids) = 1 then named_members.named_member_ids[1]
        end as counterparty_member_id
    from named_members
    left join int_counterparties_named on named_members.txn_id = int_counterparties_named.txn_id
),

requests as (
    -- Every source's request side by side, and the one that decides (docs/rules.md#sharing): a
    -- review answer that is a sharing (Y, N, S), then the file's shared amount (a ledger), the
    -- schema's static sharing, the first matching sharing rule. Decided here, once: every field
    -- of the request is then that source's. Null: none asks, and the default decides.
    select
        int_transactions_enriched.*,
        int_duplicates_matched.duplicate_of_txn_id,
        int_duplicates_matched.duplicate_reason,
        coalesce(int_duplicates_matched.is_suspected, false) as is_suspected_duplicate,
        int_review_decisions_latest.sharing as review_sharing,
        int_review_decisions_latest.duplicate_answer,
        int_review_decisions_latest.note as review_note,
        int_review_decisions_latest.decided_at as reviewed_at,
        int_review_decisions_latest.policy as review_policy,
        int_review_decisions_latest.payer_share_pct as review_payer_share_pct,
        int_sharing_rules_matched.sharing as rule_sharing,
        int_sharing_rules_matched.policy as rule_policy,
        int_sharing_rules_matched.payer_share_pct as rule_payer_share_pct,
        paired_legs.is_settlement as paired_as_settlement,
        paired_legs.pair_out_txn_id,
        coalesce(paired_legs.counterparty_member_id, named_counterparty.counterparty_member_id)
            as counterparty_member_id,
        case
            when int_review_decisions_latest.sharing in ('shared', 'personal', 'split') then 'review'
            when int_transactions_enriched.shared_amount_cents is not null then 'file'
            when int_transactions_enriched.static_sharing is not null then 'schema'
            when int_sharing_rules_matched.rule_id is not null
                then int_sharing_rules_matched.rule_source || ':' || int_sharing_rules_matched.rule_id
        end as requested_by
    from int_transactions_enriched
    left join int_duplicates_matched
        on int_transactions_enriched.txn_id = int_duplicates_matched.txn_id
    left join int_review_decisions_latest
        on int_transactions_enriched.txn_id = int_review_decisions_latest.txn_id
    left join int_sharing_rules_matched
        on int_transactions_enriched.txn_id = int_sharing_rules_matched.txn_id
    left join paired_legs
        on int_transactions_enriched.txn_id = paired_legs.txn_id
    left join named_counterparty
        on int_transactions_enriched.txn_id = named_counterparty.txn_id
),

requested as (
    -- What the deciding source asks for, picked by requested_by alone. A row nothing decides
    -- takes the rule's values too: with no rule matched, null and the default policy.
    select
        * exclude (review_policy, review_payer_share_pct, rule_sharing, rule_policy, rule_payer_share_pct),
        case requested_by
            when 'review' then review_sharing
            -- A ledger's shared amount: 0 is none of it, anything else some or all of it.
            when 'file' then case when shared_amount_cents = 0 then 'personal' else 'shared' end
            when 'schema' then static_sharing
            else rule_sharing
        end as requested_sharing,
        -- A ledger's shared amount says how much is shared, not by what weights: a ledger row
        -- takes them from its schema when the schema has a sharing, else from its rule, as it
        -- would without the amount.
        case
            when requested_by = 'review' then coalesce(review_policy, 'default')
            when requested_by in ('file', 'schema') and static_sharing is not null
                then coalesce(lower(static_policy), 'default')
            else coalesce(rule_policy, 'default')
        end as requested_policy,
        case
            when requested_by = 'review' then review_payer_share_pct
            when requested_by in ('file', 'schema') and static_sharing is not null then null
            else rule_payer_share_pct
        end as requested_payer_share_pct
    from requests
),

kinds as (
    select
        *,
        case
            -- A suspect stays out of the balance until answered: D confirms it; Y/N/S
            -- answered to its question mean "not a duplicate" (docs/rules.md#review-answers).
            when
                duplicate_of_txn_id is not null
                and coalesce(duplicate_answer, '') <> 'not_duplicate'
                then 'duplicate'
            when amount_cents = 0 then 'ignored'
            when requested_sharing in ('shared', 'personal', 'split') then 'expense'
            when requested_sharing = 'ignore' then 'ignored'
            when paired_as_settlement then 'settlement'
            when paired_as_settlement = false then 'transfer'
            when requested_sharing = 'transfer' then 'transfer'
            when
                (
                    requested_sharing = 'settlement'
                    or (requested_sharing is null and source_kind = 'payment_app')
                )
                and counterparty_member_id is not null
                then 'settlement'
            when amount_cents < 0 then 'expense'
            else 'income'
        end as kind
    from requested
),

decided as materialized (
    -- Read four times below (refunds, purchases, and the decisions they take): computed once.
    select
        *,
        case
            when kind = 'expense'
                then coalesce(
                    case when requested_sharing in ('shared', 'personal', 'split') then requested_sharing end,
                    'pending'
                )
        end as sharing,
        case
            when kind = 'duplicate' then 'duplicate'
            when kind = 'ignored' and amount_cents = 0 then 'zero_amount'
            when kind in ('settlement', 'transfer') and pair_out_txn_id is not null
                then coalesce(requested_by || '+pairing', 'pairing')
            when kind = 'expense' and requested_sharing not in ('shared', 'personal', 'split')
                then 'default'
            when requested_by is not null then requested_by
            else 'default'
        end as decision_source,
        case when kind = 'expense' and requested_sharing in ('shared', 'split') then requested_policy end
            as policy,
        case when kind = 'expense' and requested_sharing = 'split' then requested_payer_share_pct end
            as payer_share_pct
    from kinds
),

refund_candidates as (
    -- Money in with no decision of its own (no answer, no row data, no pairing): a refund of the
    -- latest earlier expense of its account and merchant within the refund window that cost at
    -- least as much, an exact amount first (docs/rules.md#refunds). It then undoes exactly what
    -- that purchase did. A sharing rule that matches it (say, by category) describes purchases in
    -- general, so the purchase's own decision, with the weights of its date, wins over it.
    select
        txn_id,
        account_id,
        merchant,
        amount_cents,
        transaction_date,
        -- The window's days lie in this bucket of window + 1 days and the one before: an
        -- equality the hash join can use, where a date range alone is checked on every pair.
        {{ day_bucket('transaction_date', var('refund_window_days')) }} + unnest([-1, 0]) as purchase_bucket
    from decided
    where
        amount_cents > 0
        and kind in ('income', 'expense')
        and pair_out_txn_id is null
        and coalesce(requested_sharing in ('shared', 'personal', 'split'), true)
        and coalesce(requested_by not in ('review', 'file', 'schema'), true)
),

purchases as (
    select
        txn_id,
        account_id,
        merchant,
        cost_cents,
        transaction_date,
        {{ day_bucket('transaction_date', var('refund_window_days')) }} as purchase_bucket
    from decided
    where kind = 'expense' and amount_cents < 0
),

refund_links as (
    select
        refund.txn_id,
        -- The exact amount first, then the latest, then the first txn_id.
        arg_min(
            purchase.txn_id,
            (
                purchase.cost_cents <> refund.amount_cents,
                -date_diff('day', date '1970-01-01', purchase.transaction_date),
                purchase.txn_id
            )
        ) as refund_of_txn_id
    from refund_candidates as refund
    inner join purchases as purchase
        on
            refund.account_id = purchase.account_id
            and refund.merchant = purchase.merchant
            and refund.purchase_bucket = purchase.purchase_bucket
            and refund.amount_cents <= purchase.cost_cents
            and refund.transaction_date >= purchase.transaction_date
            and refund.transaction_date - interval {{ var('refund_window_days') }} day
            <= purchase.transaction_date
    group by refund.txn_id
),

refunds_applied as (
    select
        decided.* replace (
            case when purchase.txn_id is not null then 'expense' else decided.kind end as kind,
            coalesce(purchase.sharing, decided.sharing) as sharing,
            case
                when purchase.txn_id is not null then 'refund_of:' || purchase.txn_id
                else decided.decision_source
            end as decision_source,
            coalesce(purchase.policy, decided.policy) as policy,
            coalesce(purchase.payer_share_pct, decided.payer_share_pct) as payer_share_pct
        ),
        refund_links.refund_of_txn_id,
        -- The weights in force on the purchase's date split its refund.
        coalesce(purchase.transaction_date, decided.transaction_date) as policy_date
    from decided
    left join refund_links on decided.txn_id = refund_links.txn_id
    left join decided as purchase on refund_links.refund_of_txn_id = purchase.txn_id
),

final as (
    -- The decision and the facts later steps compute with; fct_transactions joins the
    -- descriptive columns once, so this wide step stays narrow on disk.
    select
        txn_id,
        owner_member_id,
        transaction_date,
        amount_cents,
        cost_cents,
        -- A ledger's shared part shapes the shares only when it decided the expense: a review answer
        -- outranks the row's data (docs/rules.md#sharing), and Y then shares all of the cost.
        case when requested_by = 'file' then shared_amount_cents end as shared_amount_cents,
        duplicate_of_txn_id,
        duplicate_reason,
        is_suspected_duplicate,
        review_sharing,
        duplicate_answer,
        review_note,
        reviewed_at,
        paired_as_settlement,
        pair_out_txn_id,
        counterparty_member_id,
        requested_sharing,
        requested_by,
        requested_policy,
        requested_payer_share_pct,
        kind,
        sharing,
        decision_source,
        policy,
        payer_share_pct,
        refund_of_txn_id,
        policy_date
    from refunds_applied
)

select * from final
