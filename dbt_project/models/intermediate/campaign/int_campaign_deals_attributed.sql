{{ config(materialized='table') }}
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

campaigns as (

    select * from {{ ref('stg_plan__campaigns') }}

),

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

won_deals as (

    select * from deals
    where stage = 'won'
        and closed_at is not null

),

links as (

    -- a won deal belongs to a campaign directly (its campaign_id) or through its lead
    select
        deal_id,
        campaign_id,
        'deal' as link
    from won_deals
    where campaign_id is not null

    union all

    select
        won_deals.deal_id,
        leads.campaign_id,
        'lead' as link
    from won_deals
    inner join leads
        on won_deals.lead_id = leads.lead_id
    where leads.campaign_id is not null

),

campaign_deal_pairs as (

    -- a deal linked both ways to the same campaign counts once
    select
        deal_id,
        campaign_id,
        case
            when min(link) = max(link) then min(link)
            else 'deal_and_lead'
        end as attributed_via
    from links
    group by deal_id, campaign_id

),

in_window as (

    -- closed inside the campaign's attribution window (business-local dates, inclusive)
    select
        campaign_deal_pairs.campaign_id,
        campaign_deal_pairs.deal_id,
        campaign_deal_pairs.attributed_via,
        won_deals.account_id,
        won_deals.deal_type,
        won_deals.product_code,
        won_deals.amount_jpy,
        won_deals.closed_at,
        {{ local_date('won_deals.closed_at') }} as closed_date
    from campaign_deal_pairs
    inner join won_deals
        on campaign_deal_pairs.deal_id = won_deals.deal_id
    inner join windows
        on campaign_deal_pairs.campaign_id = windows.campaign_id
    where {{ local_date('won_deals.closed_at') }} >= windows.window_start_date
        and {{ local_date('won_deals.closed_at') }} <= windows.window_end_date

),

final as (

    -- gross profit: amount x the product's gross_margin_rate; when the margin (or the
    -- amount) is unknown, the plan's gross_profit_per_deal_jpy for this one deal
    select
        in_window.campaign_id,
        in_window.deal_id,
        in_window.attributed_via,
        in_window.account_id,
        in_window.deal_type,
        in_window.product_code,
        in_window.amount_jpy,
        in_window.closed_at,
        in_window.closed_date,
        products.gross_margin_rate,
        case
            when in_window.amount_jpy is not null and products.gross_margin_rate is not null
                then 'margin'
            when campaigns.gross_profit_per_deal_jpy is not null
                then 'plan_per_deal'
        end as gross_profit_basis,
        cast(round(cast(coalesce(
            in_window.amount_jpy * products.gross_margin_rate,
            campaigns.gross_profit_per_deal_jpy
        ) as {{ dbt.type_numeric() }}), 2) as decimal(18, 2)) as gross_profit_jpy
    from in_window
    left join products
        on in_window.product_code = products.product_code
    left join campaigns
        on in_window.campaign_id = campaigns.campaign_id

)

select * from final
