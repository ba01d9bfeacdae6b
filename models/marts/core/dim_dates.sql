-- Every day of every month that holds a dated fact, for time intelligence in Power BI. Whole
-- months, so that a month's first day (rpt_monthly.month_start) always finds its date and a
-- month's totals never stop at the last transaction day. Balance days count too: an opening
-- balance may be dated before the first transaction.
with

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_balances_daily as (
    select * from {{ ref('fct_balances_daily') }}
),

fact_dates as (
    select transaction_date as fact_date from fct_transactions
    union all
    select balance_date as fact_date from fct_balances_daily
),

date_range as (
    select
        cast(date_trunc('month', min(fact_date)) as date) as first_date,
        last_day(max(fact_date)) as last_date
    from fact_dates
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
