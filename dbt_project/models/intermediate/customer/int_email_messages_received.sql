{#- What each recipient got of each message, from all of the message's events up to the
    as-of date: one row per message and recipient hash, the input of customer_engagement's
    email component (which then reads a row per message instead of every event of the
    history: 50.6M events at L).

    Incremental, as int_email_messages_summarised: a run recomputes, from ALL events of the
    message, every message with an event changed since the last run (macros/incremental.sql:
    loaded after the table's newest `_loaded_at`, or dated in the lookback); the pre-hook
    first deletes exactly those messages' rows (macros/email_messages_incremental.sql). No
    column depends on the as-of date other than through staging's as-of cut, whose later
    events arrive as changed rows; an as-of going backwards rebuilds the table. Equal to a
    full refresh (tests/integration/test_incremental.py). -#}
{%- set date_watermark = local_date('max(last_event_at)') -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ incremental_rebuild_hook(local_date('max(last_event_at)')) }}",
            "{{ email_messages_delete_changed(local_date('max(last_event_at)'), keys=['message_id']) }}",
        ]
    )
}}

with

all_events as not materialized (

    -- read twice on incremental runs: inlined, not copied first
    select * from {{ ref('stg_email__email_events') }}

),

{% if is_incremental() -%}
changed_messages as (

    -- messages with an event changed since the last run
    select distinct message_id from all_events
    where {{ incremental_changed_rows(date_watermark, effective_ts_sql='occurred_at') }}

),

{% endif -%}
events as (

    -- every event of the messages to (re)compute (all of them on a first run); events
    -- without a message or a recipient reach no account
    select * from all_events
    where message_id is not null
        and recipient_email_hash is not null
        {%- if is_incremental() %}
        and message_id in (select message_id from changed_messages)
        {%- endif %}

),

received as (

    select
        message_id,
        recipient_email_hash,
        -- the first sent or delivered event, whatever its date: the engagement window
        -- counts a message from when it first went out
        min(case when event_type in ('sent', 'delivered') then occurred_at end) as sent_at,
        max(case when event_type = 'bounced' then 1 else 0 end) as is_bounced,
        max(case when event_type = 'opened' then 1 else 0 end) as is_opened,
        max(case when event_type = 'clicked' then 1 else 0 end) as is_clicked,
        max(occurred_at) as last_event_at,
        max(_loaded_at) as _loaded_at
    from events
    group by message_id, recipient_email_hash

),

final as (

    select
        *,
        -- the run that wrote the row: scopes the nightly key tests (macros/incremental.sql)
        {{ incremental_batch_no() }} as _batch_no
    from received

)

select * from final
