-- Every day from the first to the last transaction, for time intelligence in Power BI.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

date_range as (
    select
        min(transaction_date) as first_date,
        max(transaction_date) as last_date
    from fct_transactions
),

days as (
    select cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as calendar_date
    from date_range
    where first_date is not null
),

final as (
    select
        calendar_date,
        cast(year(calendar_date) as bigint) as calendar_year,
        cast(month(calendar_date) as bigint) as calendar_month,
        cast(date_trunc('month', calendar_date) as date) as month_start,
        strftime(calendar_date, '%Y-%m') as month_label,
        cast(isodow(calendar_date) as bigint) as iso_weekday
    from days
)

select * from final
