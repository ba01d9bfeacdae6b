-- Who is on the other side of each payment (docs/rules.md#settlements): the schema's counterparty
-- column (a payment app's From and To, one of them the owner), else the name a shipped payment
-- pattern captures from the description ("Zelle payment to NAME", "ZELLE FROM NAME"); never a note
-- or memo. Each name is matched to the members by their aliases, as whole words. The result is the
-- one other member named, or the owner alone (money between the owner's own accounts), or a known
-- non-member: a name that matches no member, whose payments are ordinary expenses and income. Rows
-- with no counterparty text are not here: their counterparty is unknown.
{%- set members = rows_of(
    "select member_id, coalesce(alias_pattern, member_id) as alias from "
    ~ ref('stg_household__members') ~ " order by member_order"
) %}
{%- set captures = rows_of(
    "select counterparty_capture from " ~ ref('shipped_payment_patterns')
    ~ " where coalesce(counterparty_capture, '') <> '' order by pattern_order"
) %}

with

int_transactions_enriched as (
    select * from {{ ref('int_transactions_enriched') }}
),

counterparty_texts as (
    select
        txn_id,
        owner_member_id,
        coalesce(
            counterparty_text,
            {%- for capture in captures %}
                nullif(trim(regexp_extract(description, {{ sql_string(capture['counterparty_capture']) }}, 1, 'i')), ''),
            {%- endfor %}
            null
        ) as named_party,
        counterparty_text is not null as is_from_column
    from int_transactions_enriched
    where amount_cents <> 0
),

names as (
    -- A joined counterparty cell holds one name per column (Venmo: From · To).
    select
        txn_id,
        owner_member_id,
        unnest(string_split(named_party, ' · ')) as counterparty_name
    from counterparty_texts
    where named_party is not null
),

named_members as (
    select
        txn_id,
        owner_member_id,
        {{ member_ids_named('counterparty_name', members) }} as member_ids
    from names
    -- A reference number alone names nobody.
    where regexp_matches(counterparty_name, '[[:alpha:]]')
),

per_payment as (
    select
        txn_id,
        any_value(owner_member_id) as owner_member_id,
        list_distinct(
            flatten(list(list_filter(member_ids, named -> named <> owner_member_id)))
        ) as other_member_ids,
        bool_or(len(member_ids) = 0) as names_a_non_member,
        bool_or(list_contains(member_ids, owner_member_id)) as names_the_owner
    from named_members
    group by txn_id
),

final as (
    select
        counterparty_texts.txn_id,
        counterparty_texts.named_party as counterparty_text,
        counterparty_texts.is_from_column,
        case
            when len(per_payment.other_member_ids) = 1 then per_payment.other_member_ids[1]
            when
                len(per_payment.other_member_ids) = 0
                and not per_payment.names_a_non_member
                and per_payment.names_the_owner
                then per_payment.owner_member_id
        end as counterparty_member_id,
        coalesce(
            len(per_payment.other_member_ids) = 0 and per_payment.names_a_non_member, false
        ) as is_non_member
    from counterparty_texts
    left join per_payment on counterparty_texts.txn_id = per_payment.txn_id
    where counterparty_texts.named_party is not null
)

select * from final
