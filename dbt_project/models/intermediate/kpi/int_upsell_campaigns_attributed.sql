-- One row per upsell campaign (plan objective = 'upsell') that started by the as-of date,
-- with its cost and the won upsell deals attributed to it: deals whose attributed
-- campaign (the deal's campaign_id, else its lead's) is the campaign, closed inside the
-- campaign's attribution window [start_date, end_date + attribution_window_days] (both
-- ends inclusive; window days default to var default_attribution_window_days) and by the
-- as-of date. gross_profit_jpy = sum over those deals of amount x gross_margin_rate,
-- falling back per deal to the campaign's gross_profit_per_deal_jpy when the margin is
-- unknown (the Campaign PDCA rule). The KPI table assigns a campaign to the period of its
-- start_date.
with

campaigns as (

    select * from {{ ref('stg_plan__campaigns') }}

),

deals as (

    select * from {{ ref('int_deals_attributed') }}

),

upsell_campaigns as (

    select
        campaign_id,
        channel,
        start_date,
        end_date,
        coalesce(attribution_window_days, {{ var('default_attribution_window_days') }}) as attribution_window_days,
        {{ kpi_add_days(
            'end_date', 'coalesce(attribution_window_days, ' ~ var('default_attribution_window_days') ~ ')'
        ) }} as attribution_end_date,
        coalesce(cost_jpy, 0) as cost_jpy,
        gross_profit_per_deal_jpy
    from campaigns
    where objective = 'upsell'
        and start_date <= {{ as_of_date() }}

),

attributed_deals as (

    select
        upsell_campaigns.campaign_id,
        deals.deal_id,
        deals.amount_jpy,
        coalesce(deals.gross_profit_jpy, upsell_campaigns.gross_profit_per_deal_jpy) as deal_gross_profit_jpy
    from upsell_campaigns
    inner join deals
        on deals.attributed_campaign_id = upsell_campaigns.campaign_id
        and deals.deal_type = 'upsell'
        and deals.is_won
        and deals.closed_date >= upsell_campaigns.start_date
        and deals.closed_date <= upsell_campaigns.attribution_end_date

),

per_campaign as (

    select
        campaign_id,
        count(*) as deals_won,
        sum(amount_jpy) as won_amount_jpy,
        sum(deal_gross_profit_jpy) as gross_profit_jpy
    from attributed_deals
    group by campaign_id

),

final as (

    select
        upsell_campaigns.campaign_id,
        upsell_campaigns.channel,
        upsell_campaigns.start_date,
        upsell_campaigns.end_date,
        upsell_campaigns.attribution_window_days,
        upsell_campaigns.attribution_end_date,
        {{ kpi_jpy('upsell_campaigns.cost_jpy') }} as cost_jpy,
        coalesce(per_campaign.deals_won, 0) as deals_won,
        {{ kpi_jpy('coalesce(per_campaign.won_amount_jpy, 0)') }} as won_amount_jpy,
        {{ kpi_jpy('coalesce(per_campaign.gross_profit_jpy, 0)') }} as gross_profit_jpy
    from upsell_campaigns
    left join per_campaign
        on upsell_campaigns.campaign_id = per_campaign.campaign_id

)

select * from final
