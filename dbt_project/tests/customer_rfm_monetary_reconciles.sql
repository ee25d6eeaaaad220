-- Reconciliation: the monetary value of all customers in customer_rfm adds up to the paid
-- revenue of the same window (the rfm_lookback_days days up to as-of: as-of - N < d <= as-of)
-- computed straight from int_purchases_aggregated. Also checks the purchase counts
-- (frequency). Returns a row when either differs.
with

rfm as (

    select
        coalesce(sum(monetary_jpy), 0) as monetary_jpy,
        coalesce(sum(frequency), 0) as purchases
    from {{ ref('customer_rfm') }}

),

purchases as (

    select
        coalesce(sum(purchase_amount_jpy), 0) as revenue_jpy,
        count(*) as purchases
    from {{ ref('int_purchases_aggregated') }}
    where {{ customer_in_window('purchase_date', as_of_date(), var('rfm_lookback_days')) }}

)

select
    rfm.monetary_jpy,
    purchases.revenue_jpy,
    rfm.purchases as rfm_purchases,
    purchases.purchases as window_purchases
from rfm
cross join purchases
where abs(rfm.monetary_jpy - purchases.revenue_jpy) > 0.005
    or rfm.purchases <> purchases.purchases
