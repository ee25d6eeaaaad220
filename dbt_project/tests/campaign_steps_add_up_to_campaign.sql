-- Reconciliation: a message belongs to one step, so the email counts of
-- campaign_step_performance add up to those of campaign_performance; and human opens /
-- clicks are a subset of all opens / clicks. Returns offending campaigns.

with

performance as (

    select * from {{ ref('campaign_performance') }}

),

steps as (

    select
        campaign_id,
        sum(sent) as sent,
        sum(bounced) as bounced,
        sum(unique_opens) as unique_opens,
        sum(unique_clicks) as unique_clicks,
        sum(replies) as replies,
        sum(human_unique_opens) as human_unique_opens,
        sum(human_unique_clicks) as human_unique_clicks
    from {{ ref('campaign_step_performance') }}
    group by campaign_id

),

final as (

    select
        performance.campaign_id,
        performance.sent,
        steps.sent as step_sent,
        performance.unique_opens,
        steps.unique_opens as step_unique_opens,
        performance.human_unique_opens,
        performance.human_unique_clicks
    from performance
    left join steps
        on performance.campaign_id = steps.campaign_id
    where performance.sent <> coalesce(steps.sent, 0)
        or performance.bounced <> coalesce(steps.bounced, 0)
        or performance.unique_opens <> coalesce(steps.unique_opens, 0)
        or performance.unique_clicks <> coalesce(steps.unique_clicks, 0)
        or performance.replies <> coalesce(steps.replies, 0)
        or performance.human_unique_opens <> coalesce(steps.human_unique_opens, 0)
        or performance.human_unique_clicks <> coalesce(steps.human_unique_clicks, 0)
        or performance.human_unique_opens > performance.unique_opens
        or performance.human_unique_clicks > performance.unique_clicks

)

select * from final
