{{ config(materialized='table') }}
-- What each account owns: one row per account and product it has bought (a paid invoice
-- line with a positive amount, up to the as-of date) or holds through a subscription active
-- at the as-of date (start_date <= as_of and (end_date is null or end_date > as_of)).
-- revenue_365d_jpy = paid line amounts in the 365 days up to as-of (as_of - 365 < date
-- <= as_of; credit notes included, they reduce revenue); active_mrr_jpy / max_usage_rate
-- over the product's active subscriptions.
with

invoice_lines as (

    select * from {{ ref('stg_billing__invoices') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

products as (

    select * from {{ ref('stg_billing__products') }}

),

paid_lines as (

    select
        account_id,
        product_code,
        min(case when amount_jpy > 0 then invoice_date end) as first_purchase_date,
        max(case when amount_jpy > 0 then invoice_date end) as last_purchase_date,
        sum(case when {{ kpi_in_last_days('invoice_date', 365) }} then amount_jpy else 0 end) as revenue_365d_jpy
    from invoice_lines
    where status = 'paid'
    group by account_id, product_code

),

active_subscriptions as (

    select
        account_id,
        product_code,
        sum(coalesce(mrr_jpy, 0)) as active_mrr_jpy,
        max(usage_rate) as max_usage_rate,
        count(*) as active_subscriptions
    from subscriptions
    where start_date <= {{ as_of_date() }}
        and (end_date is null or end_date > {{ as_of_date() }})
    group by account_id, product_code

),

account_products as (

    select account_id, product_code from paid_lines where first_purchase_date is not null
    union
    select account_id, product_code from active_subscriptions

),

final as (

    select
        account_products.account_id,
        account_products.product_code,
        products.product_family,
        products.tier_rank,
        paid_lines.first_purchase_date,
        paid_lines.last_purchase_date,
        {{ kpi_jpy('coalesce(paid_lines.revenue_365d_jpy, 0)') }} as revenue_365d_jpy,
        {{ kpi_jpy('coalesce(active_subscriptions.active_mrr_jpy, 0)') }} as active_mrr_jpy,
        coalesce(active_subscriptions.active_subscriptions, 0) > 0 as has_active_subscription,
        active_subscriptions.max_usage_rate
    from account_products
    left join paid_lines
        on account_products.account_id = paid_lines.account_id
        and account_products.product_code = paid_lines.product_code
    left join active_subscriptions
        on account_products.account_id = active_subscriptions.account_id
        and account_products.product_code = active_subscriptions.product_code
    left join products
        on account_products.product_code = products.product_code

)

select * from final
