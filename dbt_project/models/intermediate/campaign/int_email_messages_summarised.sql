{{ config(materialized='table') }}

with

events as (

    select * from {{ ref('stg_email__email_events') }}

),

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

clocked as (

    -- one pass over the events (the staging view is the expensive part at scale; the
    -- recipient hash is deliberately not read: hashing 5M events costs more than the rest):
    -- each event learns when its message reached the inbox (the delivered event, else the
    -- sent event, over ALL the message's events) and whether it falls inside the
    -- campaign's attribution window (business-local dates, both ends inclusive). Events
    -- of campaigns missing from the plan have no window and are dropped.
    select
        events.campaign_id,
        events.step,
        events.message_id,
        events.event_type,
        events.occurred_at,
        events.user_agent,
        min(case when events.event_type = 'sent' then events.occurred_at end) over (
            partition by events.campaign_id, events.message_id
        ) as sent_at,
        min(case when events.event_type = 'delivered' then events.occurred_at end) over (
            partition by events.campaign_id, events.message_id
        ) as delivered_at,
        {{ local_date('events.occurred_at') }} >= windows.window_start_date
            and {{ local_date('events.occurred_at') }} <= windows.window_end_date
            as is_in_window
    from events
    inner join windows
        on events.campaign_id = windows.campaign_id

),

classified as (

    -- machine open/click: a proxy/scanner user agent, or no later than
    -- machine_event_seconds after the message reached the inbox (events stamped before
    -- delivery included)
    select
        clocked.*,
        coalesce(delivered_at, sent_at) as inbox_at,
        case
            when event_type not in ('opened', 'clicked') then false
            when {{ campaign_is_machine_user_agent('user_agent') }} then true
            when coalesce(delivered_at, sent_at) is not null
                and occurred_at <= {{ dbt.dateadd(
                    'second', var('machine_event_seconds'), 'coalesce(delivered_at, sent_at)') }}
                then true
            else false
        end as is_machine_event
    from clocked
    where is_in_window

),

summarised as (

    select
        campaign_id,
        step,
        message_id,
        min(sent_at) as sent_at,
        min(delivered_at) as delivered_at,
        min(inbox_at) as inbox_at,
        max(case when event_type = 'sent' then 1 else 0 end) = 1 as is_sent,
        max(case when event_type = 'bounced' then 1 else 0 end) = 1 as is_bounced,
        max(case when event_type = 'opened' then 1 else 0 end) = 1 as is_opened,
        max(case when event_type = 'clicked' then 1 else 0 end) = 1 as is_clicked,
        max(case when event_type = 'replied' then 1 else 0 end) = 1 as is_replied,
        max(case when event_type = 'unsubscribed' then 1 else 0 end) = 1 as is_unsubscribed,
        max(case when event_type = 'opened' and not is_machine_event then 1 else 0 end) = 1
            as is_human_opened,
        max(case when event_type = 'clicked' and not is_machine_event then 1 else 0 end) = 1
            as is_human_clicked,
        count(case when event_type = 'opened' then 1 end) as open_events,
        count(case when event_type = 'clicked' then 1 end) as click_events,
        count(case when event_type = 'opened' and is_machine_event then 1 end)
            as machine_open_events,
        count(case when event_type = 'clicked' and is_machine_event then 1 end)
            as machine_click_events,
        min(case when event_type = 'opened' and not is_machine_event then occurred_at end)
            as first_human_opened_at,
        min(case when event_type = 'clicked' and not is_machine_event then occurred_at end)
            as first_human_clicked_at
    from classified
    group by campaign_id, step, message_id

),

final as (

    select
        campaign_id,
        step,
        message_id,
        sent_at,
        delivered_at,
        inbox_at,
        is_sent,
        is_bounced,
        is_sent and not is_bounced as is_delivered,
        is_opened,
        is_clicked,
        is_replied,
        is_unsubscribed,
        is_human_opened,
        is_human_clicked,
        open_events,
        click_events,
        machine_open_events,
        machine_click_events,
        first_human_opened_at,
        first_human_clicked_at
    from summarised

)

select * from final
