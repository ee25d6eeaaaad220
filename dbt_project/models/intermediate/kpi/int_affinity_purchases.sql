{{ config(materialized='table') }}
-- Product purchases for co-purchase (affinity) analysis: one row per account, product and
-- purchase date, over paid invoice lines dated in the var affinity_lookback_days (365) up
-- to the as-of date (as_of - N days < invoice_date <= as_of). A line with a zero or
-- negative amount (a credit note) is not a purchase of the product. industry comes from
-- the CRM account ('unknown' when missing).
with

invoice_lines as (

    select * from {{ ref('stg_billing__invoices') }}

),

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

purchased_lines as (

    select distinct
        account_id,
        product_code,
        invoice_date as purchased_on
    from invoice_lines
    where status = 'paid'
        and amount_jpy > 0
        and {{ kpi_in_last_days('invoice_date', var('affinity_lookback_days')) }}

),

final as (

    select
        purchased_lines.account_id,
        coalesce(accounts.industry, 'unknown') as industry,
        purchased_lines.product_code,
        purchased_lines.purchased_on
    from purchased_lines
    left join accounts
        on purchased_lines.account_id = accounts.account_id

)

select * from final
