-- One row per resolved merchant, with the category most of its transactions carry.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

category_counts as (
    select
        merchant,
        category,
        count(*) as transaction_count
    from fct_transactions
    group by merchant, category
),

final as (
    select
        merchant,
        category as usual_category,
        cast(sum(transaction_count) over (partition by merchant) as bigint) as transaction_count
    from category_counts
    qualify row_number() over (partition by merchant order by transaction_count desc, category asc) = 1
)

select * from final
