-- Merchant and category per distinct raw description (regexes run once per description, not per
-- row): the household's lookup, then the shipped one; the cleaned text is the fallback. The
-- lookup patterns are read while the model runs and written into it as constants (see
-- macros/rows_of.sql), so each regex is compiled once.
{%- set lookup_rows_sql %}
    select
        1 as source_rank,
        lookup_order,
        'household_lookup' as lookup_source,
        pattern,
        merchant,
        category
    from {{ ref('stg_household__merchant_lookup') }}
    union all
    select
        2 as source_rank,
        lookup_order,
        'shipped_lookup' as lookup_source,
        pattern,
        merchant,
        category
    from {{ ref('shipped_merchant_lookup') }}
{%- endset %}
{%- set lookup_conditions = [] %}
{%- for row in rows_of(
    "select pattern from (" ~ lookup_rows_sql ~ ") as lookup order by source_rank, lookup_order"
) %}
    {%- do lookup_conditions.append(
        "regexp_matches(description, " ~ sql_string(row['pattern']) ~ ", 'i')"
    ) %}
{%- endfor %}

with

int_transactions_collapsed as (
    select * from {{ ref('int_transactions_collapsed') }}
),

lookup_rows as (
    select
        *,
        row_number() over (order by source_rank, lookup_order) as lookup_position
    from ({{ lookup_rows_sql }}) as lookup
),

descriptions as (
    select
        description,
        {{ first_true_position(lookup_conditions) }} as lookup_position
    from (select distinct description from int_transactions_collapsed) as distinct_descriptions
),

first_match as (
    select
        descriptions.description,
        lookup_rows.merchant,
        lookup_rows.category,
        lookup_rows.lookup_source
    from descriptions
    inner join lookup_rows on descriptions.lookup_position = lookup_rows.lookup_position
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
