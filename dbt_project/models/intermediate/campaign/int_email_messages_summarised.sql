{#- Incremental (the largest campaign input: every email event through two windows each
    night). A run recomputes, from ALL events of the message, every message with an event
    changed since the last run (macros/incremental.sql: loaded after the table's newest
    `_loaded_at`, or dated in the lookback), and every campaign whose attribution window
    differs from the one its rows were built with (plan changed) or that has no rows yet;
    the pre-hooks first delete exactly those rows, and the rows of campaigns gone from the
    plan (macros/email_messages_incremental.sql). As-of going backwards rebuilds it. A
    change of var machine_event_seconds / machine_user_agent_markers or of this SQL needs
    `--full-refresh`. The result equals a full refresh (tests/integration/test_incremental.py). -#}
{%- set date_watermark = local_date('max(last_event_at)') -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ incremental_rebuild_hook(local_date('max(last_event_at)')) }}",
            "{{ email_messages_delete_changed(local_date('max(last_event_at)')) }}",
            "{{ email_messages_delete_replanned() }}",
        ]
    )
}}

with

all_events as not materialized (

    -- read more than once below: inlined, not copied first (DuckDB materializes such CTEs)
    select * from {{ ref('stg_email__email_events') }}

),

windows as (

    -- each window's ends as instants, computed once per campaign (not per event)
    select
        *,
        {{ local_day_start('window_start_date') }} as window_starts_at,
        {{ local_day_start(dbt.dateadd('day', 1, 'window_end_date')) }} as window_ends_before
    from {{ ref('int_campaign_windows') }}

),

{% if is_incremental() -%}
changed_messages as (

    -- messages with an event changed since the last run
    select distinct campaign_id, message_id from all_events
    where {{ incremental_changed_rows(date_watermark, effective_ts_sql='occurred_at') }}

),

replanned_campaigns as (

    -- campaigns whose window is not the one their rows hold (or that have no rows)
    select windows.campaign_id from windows
    where not exists (
        select 1 from {{ this }} as built
        where built.campaign_id = windows.campaign_id
            and built.window_start_date is not distinct from windows.window_start_date
            and built.window_end_date is not distinct from windows.window_end_date
    )

),

{% endif -%}
events as (

    -- every event of the messages to (re)compute: all of them on a first run
    select * from all_events
    {% if is_incremental() -%}
    where exists (
        select 1 from changed_messages
        where changed_messages.campaign_id = all_events.campaign_id
            and changed_messages.message_id = all_events.message_id
    )
    or campaign_id in (select campaign_id from replanned_campaigns)
    {%- endif %}

),

clocked as (

    -- one pass over the events (the staging view is the expensive part at scale; the
    -- recipient hash is deliberately not read: hashing 5M events costs more than the rest):
    -- each event learns when its message reached the inbox (the delivered event, else the
    -- sent event, over ALL the message's events) and whether it falls inside the
    -- campaign's attribution window (business-local dates, both ends inclusive, compared
    -- as instants: local_date(occurred_at) between the two dates). Events
    -- of campaigns missing from the plan have no window and are dropped.
    select
        events.campaign_id,
        events.step,
        events.message_id,
        events.event_type,
        events.occurred_at,
        events.user_agent,
        events._loaded_at,
        windows.window_start_date,
        windows.window_end_date,
        min(case when events.event_type = 'sent' then events.occurred_at end) over (
            partition by events.campaign_id, events.message_id
        ) as sent_at,
        min(case when events.event_type = 'delivered' then events.occurred_at end) over (
            partition by events.campaign_id, events.message_id
        ) as delivered_at,
        events.occurred_at >= windows.window_starts_at
            and events.occurred_at < windows.window_ends_before
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
            as first_human_clicked_at,
        -- what the incremental runs compare against (see the top of this file)
        min(window_start_date) as window_start_date,
        min(window_end_date) as window_end_date,
        max(occurred_at) as last_event_at,
        max(_loaded_at) as _loaded_at
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
        first_human_clicked_at,
        window_start_date,
        window_end_date,
        last_event_at,
        _loaded_at
    from summarised

)

select * from final
