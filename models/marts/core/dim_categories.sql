-- One row per category in use.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

final as (
    select
        category,
        cast(count(*) as bigint) as transaction_count
    from fct_transactions
    group by category
)

select * from final
