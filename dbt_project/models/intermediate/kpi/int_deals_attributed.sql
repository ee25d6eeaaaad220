{{ config(materialized='table') }}
-- One row per CRM deal, dated in the business time zone and attributed to a campaign.
-- created_date / closed_date are business-local dates (stored 2025-03-31T16:00Z is
-- 2025-04-01 in Asia/Tokyo, so it closes in fiscal month 2025-04 and FY2025).
-- A deal counts as closed only when its stage is won or lost and its close date is on or
-- before the as-of date. attributed_campaign_id = the deal's own campaign_id, else its
-- lead's campaign_id. gross_profit_jpy = amount x the product's gross_margin_rate (NULL
-- when the margin or the amount is unknown; campaign marts then fall back to the
-- campaign's gross_profit_per_deal_jpy).
with

deals as (

    select * from {{ ref('stg_crm__deals') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

products as (

    select * from {{ ref('stg_billing__products') }}

),

dated as (

    select
        deals.*,
        {{ local_date('deals.created_at') }} as created_date,
        {{ local_date('deals.closed_at') }} as closed_date
    from deals

),

final as (

    select
        dated.deal_id,
        dated.account_id,
        dated.deal_type,
        dated.stage,
        dated.amount_jpy,
        dated.product_code,
        dated.lead_id,
        dated.campaign_id,
        coalesce(dated.campaign_id, leads.campaign_id) as attributed_campaign_id,
        dated.created_at,
        dated.closed_at,
        dated.created_date,
        dated.closed_date,
        cast({{ fiscal_year('dated.closed_date') }} as integer) as closed_fiscal_year,
        {{ kpi_month_start('dated.closed_date') }} as closed_month,
        coalesce(dated.stage = 'won' and dated.closed_date <= {{ as_of_date() }}, false) as is_won,
        coalesce(dated.stage = 'lost' and dated.closed_date <= {{ as_of_date() }}, false) as is_lost,
        products.gross_margin_rate,
        dated.amount_jpy * products.gross_margin_rate as gross_profit_jpy
    from dated
    left join leads
        on dated.lead_id = leads.lead_id
    left join products
        on dated.product_code = products.product_code

)

select * from final
