{{ config(materialized='table') }}
-- One row per purchase: a paid invoice (distinct invoice_id), valued at the sum of its
-- paid lines, dated by invoice_date. Only `paid` lines count as revenue; void, open and
-- refunded lines are excluded, and invoices dated after the as-of date never reach here
-- (staging cuts them).
with

invoice_lines as (

    select * from {{ ref('stg_billing__invoices') }}

),

paid_lines as (

    select * from invoice_lines
    where status = 'paid'

),

final as (

    select
        invoice_id,
        min(account_id) as account_id,
        min(invoice_date) as purchase_date,
        sum(amount_jpy) as purchase_amount_jpy,
        count(*) as paid_lines
    from paid_lines
    group by invoice_id

)

select * from final
