{{ config(materialized='table') }}
-- Raw upsell signals for every active account (at least one purchase in the 365 days up to
-- the as-of date: as_of - 365 < purchase_date <= as_of), before any ranking:
--   contract_value_jpy = MRR of the account's active subscriptions when it has any (> 0),
--                        else its paid revenue in the last 365 days
--   tenure_days        = as_of - first purchase date
--   max_usage_rate     = max usage_rate of active subscriptions (NULL: none)
--   main product       = the product of the account's largest active subscription (MRR),
--                        else its largest product by revenue in the last 365 days, then the
--                        most recently bought, then product_code (deterministic)
--   headroom_ratio     = (max tier - current tier) / (max tier - 1) in the main product's
--                        family; 0 in a single-tier family
--   latest_nps_score   = the account's newest NPS response up to as-of (any age);
--   latest_nps_90d_score = the same when it falls in the last exclude_nps_lookback_days
--   last_support_ticket_date / last_inquiry_date = newest such CRM activity (local date)
{%- set active_days = 365 %}
with

purchases as (

    select * from {{ ref('int_purchases_aggregated') }}

),

account_products as (

    select * from {{ ref('int_account_products_aggregated') }}

),

products as (

    select * from {{ ref('stg_billing__products') }}

),

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

nps_responses as (

    select * from {{ ref('stg_crm__nps_responses') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

account_purchases as (

    select
        account_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date
    from purchases
    where purchase_date <= {{ as_of_date() }}
    group by account_id

),

active_accounts as (

    select * from account_purchases
    where {{ kpi_in_last_days('last_purchase_date', active_days) }}

),

account_totals as (

    select
        account_id,
        sum(active_mrr_jpy) as active_mrr_jpy,
        sum(revenue_365d_jpy) as revenue_365d_jpy,
        max(max_usage_rate) as max_usage_rate
    from account_products
    group by account_id

),

main_products as (

    select
        account_id,
        product_code,
        product_family,
        tier_rank,
        row_number() over (
            partition by account_id
            order by
                active_mrr_jpy desc, revenue_365d_jpy desc,
                last_purchase_date desc nulls last, product_code
        ) as product_rank
    from account_products

),

family_tiers as (

    select product_family, max(tier_rank) as max_tier_rank
    from products
    group by product_family

),

ranked_nps as (

    select
        account_id,
        score,
        responded_at,
        row_number() over (partition by account_id order by responded_at desc, response_id desc) as response_rank
    from nps_responses

),

latest_nps as (

    select account_id, score, {{ local_date('responded_at') }} as responded_on
    from ranked_nps
    where response_rank = 1

),

account_activities as (

    select
        account_id,
        -- the local date of the latest instant (= the latest local date: the conversion is
        -- monotonic), converted once per account, not once per activity
        {{ local_date("max(case when activity_type = 'support_ticket' then occurred_at end)") }}
            as last_support_ticket_date,
        {{ local_date("max(case when activity_type = 'inquiry' then occurred_at end)") }} as last_inquiry_date
    from activities
    where account_id is not null
    group by account_id

),

final as (

    select
        active_accounts.account_id,
        accounts.industry,
        coalesce(accounts.fiscal_year_end_month, 3) as fiscal_year_end_month,
        active_accounts.first_purchase_date,
        active_accounts.last_purchase_date,
        {{ days_between('active_accounts.first_purchase_date', as_of_date()) }} as tenure_days,
        {{ kpi_jpy('coalesce(account_totals.active_mrr_jpy, 0)') }} as active_mrr_jpy,
        {{ kpi_jpy('coalesce(account_totals.revenue_365d_jpy, 0)') }} as revenue_365d_jpy,
        {{ kpi_jpy(
            'case when coalesce(account_totals.active_mrr_jpy, 0) > 0 then account_totals.active_mrr_jpy
             else coalesce(account_totals.revenue_365d_jpy, 0) end') }} as contract_value_jpy,
        account_totals.max_usage_rate,
        main_products.product_code as main_product_code,
        main_products.product_family as main_product_family,
        main_products.tier_rank as main_tier_rank,
        family_tiers.max_tier_rank as family_max_tier_rank,
        coalesce(
            {{ kpi_ratio('family_tiers.max_tier_rank - main_products.tier_rank', 'family_tiers.max_tier_rank - 1') }},
            0
        ) as headroom_ratio,
        latest_nps.score as latest_nps_score,
        latest_nps.responded_on as latest_nps_date,
        case
            when {{ kpi_in_last_days('latest_nps.responded_on', var('exclude_nps_lookback_days')) }}
                then latest_nps.score
        end as latest_nps_90d_score,
        account_activities.last_support_ticket_date,
        account_activities.last_inquiry_date
    from active_accounts
    left join accounts
        on active_accounts.account_id = accounts.account_id
    left join account_totals
        on active_accounts.account_id = account_totals.account_id
    left join main_products
        on active_accounts.account_id = main_products.account_id
        and main_products.product_rank = 1
    left join family_tiers
        on main_products.product_family = family_tiers.product_family
    left join latest_nps
        on active_accounts.account_id = latest_nps.account_id
    left join account_activities
        on active_accounts.account_id = account_activities.account_id

)

select * from final
