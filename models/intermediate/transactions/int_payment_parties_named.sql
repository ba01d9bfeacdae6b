-- The other party of each payment app row (Venmo's From or To, whichever does not name the
-- owner; Cash App's and PayPal's one name), which names the row instead of its note, a free
-- text. A table of its own: int_transactions_enriched is a view read by several models, and
-- the aliases' regexes would run again on every read.
{%- set members = rows_of(
    "select member_id, coalesce(alias_pattern, member_id) as alias from "
    ~ ref('stg_household__members') ~ " order by member_order"
) %}

with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

payment_rows as (
    select
        txn_id,
        owner_member_id,
        counterparty_text
    from int_transactions_collapsed
    where source_kind = 'payment_app' and counterparty_text is not null
),

final as (
    select
        txn_id,
        list_filter(
            string_split(counterparty_text, ' · '),
            party -> not list_contains({{ member_ids_named('party', members) }}, owner_member_id)
        )[1] as other_party
    from payment_rows
)

select * from final
where other_party is not null
