{#- Incremental (the largest campaign input: every email event, through one aggregate per
    message on DuckDB and a window on other targets). A run recomputes, from ALL events of the message, every message with an event
    changed since the last run (macros/incremental.sql: loaded after the table's newest
    `_loaded_at`, or dated in the lookback), and every campaign whose attribution window
    differs from the one its rows were built with (plan changed) or that has no rows yet;
    the pre-hooks first delete exactly those rows, and the rows of campaigns gone from the
    plan (macros/email_messages_incremental.sql). As-of going backwards rebuilds it. A
    change of var machine_event_seconds / machine_user_agent_markers or of this SQL needs
    `--full-refresh`. A re-exported event that names another campaign or message than before
    rebuilds the table (email_messages_moved_events). The result equals a full refresh
    (tests/integration/test_incremental.py). -#}
{%- set date_watermark = local_date('max(last_event_at)') -%}
{%- set recompute_changed = is_incremental() and not email_messages_moved_events() -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ email_messages_rebuild_hook(local_date('max(last_event_at)')) }}",
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

{% if recompute_changed -%}
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
    {% if recompute_changed -%}
    where exists (
        select 1 from changed_messages
        where changed_messages.campaign_id = all_events.campaign_id
            and changed_messages.message_id = all_events.message_id
    )
    or campaign_id in (select campaign_id from replanned_campaigns)
    {%- endif %}

),

located as not materialized (

    -- each event with its campaign's attribution window: whether it falls inside it
    -- (business-local dates, both ends inclusive, compared as instants: local_date(occurred_at)
    -- between the two dates) and whether its user agent is a machine's. The recipient hash
    -- is deliberately not read (hashing every event costs more than the rest). Events of
    -- campaigns missing from the plan have no window and are dropped.
    select
        events.campaign_id,
        events.step,
        events.message_id,
        events.event_type,
        events.occurred_at,
        events._loaded_at,
        windows.window_start_date,
        windows.window_end_date,
        (
            events.occurred_at >= windows.window_starts_at
            and events.occurred_at < windows.window_ends_before
        ) as is_in_window,
        {{ campaign_is_machine_user_agent('events.user_agent') }} as is_machine_user_agent
    from events
    inner join windows
        on events.campaign_id = windows.campaign_id

),

{%- if target.type == 'duckdb' %}

{#- What a message (or one step of it) did inside the window, from its located events.
    Whether an open or click is a machine event depends on when the message reached the
    inbox, known only once all its events are aggregated: those with a human user agent are
    kept as lists of times and classified in `classified`. -#}
{%- set window_aggregates %}
        bool_or(is_in_window) as has_events_in_window,
        bool_or(is_in_window and event_type = 'sent') as is_sent,
        bool_or(is_in_window and event_type = 'bounced') as is_bounced,
        bool_or(is_in_window and event_type = 'opened') as is_opened,
        bool_or(is_in_window and event_type = 'clicked') as is_clicked,
        bool_or(is_in_window and event_type = 'replied') as is_replied,
        bool_or(is_in_window and event_type = 'unsubscribed') as is_unsubscribed,
        count(*) filter (where is_in_window and event_type = 'opened') as open_events,
        count(*) filter (where is_in_window and event_type = 'clicked') as click_events,
        count(*) filter (
            where is_in_window and event_type = 'opened' and is_machine_user_agent
        ) as user_agent_machine_open_events,
        count(*) filter (
            where is_in_window and event_type = 'clicked' and is_machine_user_agent
        ) as user_agent_machine_click_events,
        list(occurred_at) filter (
            where is_in_window and event_type = 'opened' and not is_machine_user_agent
        ) as other_open_times,
        list(occurred_at) filter (
            where is_in_window and event_type = 'clicked' and not is_machine_user_agent
        ) as other_click_times,
        min(window_start_date) as window_start_date,
        min(window_end_date) as window_end_date,
        max(occurred_at) filter (where is_in_window) as last_event_at,
        max(_loaded_at) filter (where is_in_window) as _loaded_at
{%- endset %}

messages as materialized (

    -- one hash aggregate over the events (instead of a window over every event, which
    -- sorted them all: 2x slower at L): when each message reached the inbox (its delivered
    -- event, else its sent event, over ALL its events, inside the window or not), and what
    -- happened inside the window. Read twice below, hence materialized.
    select
        campaign_id,
        min(step) as step,
        message_id,
        count(step) = 0 or (count(step) = count(*) and min(step) = max(step)) as is_one_step,
        min(occurred_at) filter (where event_type = 'sent') as sent_at,
        min(occurred_at) filter (where event_type = 'delivered') as delivered_at,
        {{- window_aggregates }}
    from located
    group by campaign_id, message_id

),

multi_step_messages as (

    -- the rare message whose events name different steps (or a step and none)
    select
        campaign_id,
        message_id,
        sent_at as message_sent_at,
        delivered_at as message_delivered_at
    from messages
    where not is_one_step

),

steps_of_multi_step_messages as (

    -- such a message gets one row per step, each with the message's inbox time
    select
        campaign_id,
        step,
        message_id,
        min(message_sent_at) as sent_at,
        min(message_delivered_at) as delivered_at,
        {{- window_aggregates }}
    from located
    inner join multi_step_messages using (campaign_id, message_id)
    group by campaign_id, step, message_id

),

summarised as (

    select * exclude (is_one_step) from messages
    where is_one_step

    union all by name

    select * from steps_of_multi_step_messages

),

clocked as (

    select
        *,
        coalesce(delivered_at, sent_at) as inbox_at,
        {{ dbt.dateadd('second', var('machine_event_seconds'), 'coalesce(delivered_at, sent_at)') }}
            as machine_until
    from summarised
    where has_events_in_window

),

classified as (

    -- machine open/click: a proxy/scanner user agent, or no later than
    -- machine_event_seconds after the message reached the inbox (events stamped before
    -- delivery included); without an inbox time only the user agent decides
    select
        *,
        user_agent_machine_open_events
        + {{ list_count_at_or_before('other_open_times', 'machine_until') }} as machine_open_events,
        user_agent_machine_click_events
        + {{ list_count_at_or_before('other_click_times', 'machine_until') }} as machine_click_events,
        {{ list_min_after('other_open_times', 'machine_until') }} as first_human_opened_at,
        {{ list_min_after('other_click_times', 'machine_until') }} as first_human_clicked_at
    from clocked

),

{%- else %}

{#- Other databases (Postgres): a window gives every event its message's inbox time. The
    aggregate above needs per-message lists, and Postgres' array_agg over 1.7M groups
    (a memory context each) made this model 35 -> 62 s at M there; its window is faster. -#}
clocked_events as (

    select
        *,
        min(case when event_type = 'sent' then occurred_at end) over (
            partition by campaign_id, message_id
        ) as sent_at,
        min(case when event_type = 'delivered' then occurred_at end) over (
            partition by campaign_id, message_id
        ) as delivered_at
    from located

),

classified_events as (

    -- machine open/click: a proxy/scanner user agent, or no later than
    -- machine_event_seconds after the message reached the inbox (events stamped before
    -- delivery included)
    select
        *,
        case
            when event_type not in ('opened', 'clicked') then false
            when is_machine_user_agent then true
            when coalesce(delivered_at, sent_at) is not null
                and occurred_at <= {{ dbt.dateadd(
                    'second', var('machine_event_seconds'), 'coalesce(delivered_at, sent_at)') }}
                then true
            else false
        end as is_machine_event
    from clocked_events
    where is_in_window

),

classified as (

    select
        campaign_id,
        step,
        message_id,
        min(sent_at) as sent_at,
        min(delivered_at) as delivered_at,
        min(coalesce(delivered_at, sent_at)) as inbox_at,
        bool_or(event_type = 'sent') as is_sent,
        bool_or(event_type = 'bounced') as is_bounced,
        bool_or(event_type = 'opened') as is_opened,
        bool_or(event_type = 'clicked') as is_clicked,
        bool_or(event_type = 'replied') as is_replied,
        bool_or(event_type = 'unsubscribed') as is_unsubscribed,
        count(case when event_type = 'opened' then 1 end) as open_events,
        count(case when event_type = 'clicked' then 1 end) as click_events,
        count(case when event_type = 'opened' and is_machine_event then 1 end) as machine_open_events,
        count(case when event_type = 'clicked' and is_machine_event then 1 end) as machine_click_events,
        min(case when event_type = 'opened' and not is_machine_event then occurred_at end)
            as first_human_opened_at,
        min(case when event_type = 'clicked' and not is_machine_event then occurred_at end)
            as first_human_clicked_at,
        min(window_start_date) as window_start_date,
        min(window_end_date) as window_end_date,
        max(occurred_at) as last_event_at,
        max(_loaded_at) as _loaded_at
    from classified_events
    group by campaign_id, step, message_id

),

{%- endif %}

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
        first_human_opened_at is not null as is_human_opened,
        first_human_clicked_at is not null as is_human_clicked,
        open_events,
        click_events,
        machine_open_events,
        machine_click_events,
        first_human_opened_at,
        first_human_clicked_at,
        -- what the incremental runs compare against (see the top of this file)
        window_start_date,
        window_end_date,
        last_event_at,
        _loaded_at,
        -- what the staging table held when the row was written: its newest load and event
        -- (email_messages_moved_events)
        staged.events_loaded_watermark as _events_loaded_watermark,
        staged.events_occurred_watermark as _events_occurred_watermark,
        -- the run that wrote the row: scopes the nightly key tests (macros/incremental.sql)
        {{ incremental_batch_no() }} as _batch_no
    from classified
    cross join (
        select
            max(_loaded_at) as events_loaded_watermark,
            max(occurred_at) as events_occurred_watermark
        from all_events
    ) as staged

)

select * from final
