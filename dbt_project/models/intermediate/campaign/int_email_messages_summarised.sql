{{ config(materialized='table') }}

with

events as (

    select * from {{ ref('stg_email__email_events') }}

),

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

message_clock as (

    -- the instant a message reached the inbox: its delivered event, else its sent event;
    -- taken from all of the message's events (the window only decides what counts)
    select
        campaign_id,
        message_id,
        min(case when event_type = 'sent' then occurred_at end) as sent_at,
        min(case when event_type = 'delivered' then occurred_at end) as delivered_at
    from events
    group by campaign_id, message_id

),

events_in_window as (

    -- only events inside the campaign's attribution window count (business-local dates,
    -- both ends inclusive); events of campaigns missing from the plan have no window
    select
        events.*
    from events
    inner join windows
        on events.campaign_id = windows.campaign_id
    where {{ local_date('events.occurred_at') }} >= windows.window_start_date
        and {{ local_date('events.occurred_at') }} <= windows.window_end_date

),

classified as (

    -- machine open/click: within machine_event_seconds of delivery (or any time before it),
    -- or a user agent carrying a proxy/scanner marker
    select
        events_in_window.*,
        coalesce(message_clock.delivered_at, message_clock.sent_at) as inbox_at,
        message_clock.sent_at,
        message_clock.delivered_at,
        case
            when events_in_window.event_type not in ('opened', 'clicked') then false
            when {{ campaign_is_machine_user_agent('events_in_window.user_agent') }} then true
            when coalesce(message_clock.delivered_at, message_clock.sent_at) is not null
                and events_in_window.occurred_at <= {{ dbt.dateadd(
                    'second', var('machine_event_seconds'),
                    'coalesce(message_clock.delivered_at, message_clock.sent_at)') }}
                then true
            else false
        end as is_machine_event
    from events_in_window
    left join message_clock
        on events_in_window.campaign_id = message_clock.campaign_id
        and events_in_window.message_id = message_clock.message_id

),

summarised as (

    select
        campaign_id,
        step,
        message_id,
        max(recipient_email_hash) as recipient_email_hash,
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
        recipient_email_hash,
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
