-- Merchant and category per distinct raw description (regexes run once per description, not per
-- row): the household's lookup, then the shipped one; the cleaned text is the fallback.
with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

stg_household__merchant_lookup as (
    select * from {{ ref('stg_household__merchant_lookup') }}
),

shipped_merchant_lookup as (
    select * from {{ ref('shipped_merchant_lookup') }}
),

descriptions as (
    select distinct description
    from int_transactions_collapsed
),

lookup_rows as (
    select
        1 as source_rank,
        lookup_order,
        'household_lookup' as lookup_source,
        pattern,
        merchant,
        category
    from stg_household__merchant_lookup
    union all
    select
        2 as source_rank,
        lookup_order,
        'shipped_lookup' as lookup_source,
        pattern,
        merchant,
        category
    from shipped_merchant_lookup
),

first_match as (
    select
        descriptions.description,
        lookup_rows.merchant,
        lookup_rows.category,
        lookup_rows.lookup_source
    from descriptions
    inner join lookup_rows
        on regexp_matches(descriptions.description, lookup_rows.pattern, 'i')
    qualify row_number() over (
        partition by descriptions.description
        order by lookup_rows.source_rank, lookup_rows.lookup_order
    ) = 1
),

final as (
    select
        descriptions.description,
        first_match.merchant as lookup_merchant,
        first_match.category as lookup_category,
        first_match.lookup_source,
        {{ clean_merchant_name('descriptions.description') }} as cleaned_merchant
    from descriptions
    left join first_match on descriptions.description = first_match.description
)

select * from final
