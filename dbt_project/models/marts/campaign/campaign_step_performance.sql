with

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

messages as (

    select * from {{ ref('int_email_messages_summarised') }}

),

step_counts as (

    select
        campaign_id,
        step,
        {{ campaign_email_counts() }}
    from messages
    group by campaign_id, step

),

with_delivered as (

    select
        step_counts.*,
        sent - bounced as delivered
    from step_counts

),

measured as (

    select
        with_delivered.*,
        {{ campaign_email_rates() }}
    from with_delivered

),

final as (

    select
        measured.campaign_id,
        windows.campaign_name,
        windows.channel,
        cast(measured.step as bigint) as step,
        windows.window_start_date,
        windows.window_end_date,
        windows.as_of_date,
        windows.is_window_closed,
        cast(measured.sent as bigint) as sent,
        cast(measured.bounced as bigint) as bounced,
        cast(measured.delivered as bigint) as delivered,
        cast(measured.unique_opens as bigint) as unique_opens,
        cast(measured.unique_clicks as bigint) as unique_clicks,
        cast(measured.replies as bigint) as replies,
        cast(measured.unsubscribes as bigint) as unsubscribes,
        measured.open_rate,
        measured.click_rate,
        measured.reply_rate,
        measured.unsubscribe_rate,
        measured.click_to_open_rate,
        measured.bounce_rate,
        cast(measured.human_unique_opens as bigint) as human_unique_opens,
        cast(measured.human_unique_clicks as bigint) as human_unique_clicks,
        measured.human_open_rate,
        measured.human_click_rate
    from measured
    inner join windows
        on measured.campaign_id = windows.campaign_id

)

select * from final
