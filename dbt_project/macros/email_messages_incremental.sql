{#- Pre-hooks of int_email_messages_summarised (incremental; see the top of the model).
    Order matters: the changed messages are deleted first, with the same watermarks the
    model's SQL was compiled with (the table is unchanged until then); the re-planned
    campaigns' rows afterwards (no watermark involved). The model then inserts the rows of
    exactly what these deleted, plus what is new. -#}

{% macro email_messages_delete_changed(date_watermark_sql) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ ref('stg_email__email_events') }} as changed
            where changed.campaign_id = {{ this.identifier }}.campaign_id
                and changed.message_id = {{ this.identifier }}.message_id
                and {{ incremental_changed_rows(date_watermark_sql, effective_ts_sql='changed.occurred_at') }}
        )
    {%- endif -%}
{% endmacro %}


{% macro email_messages_delete_replanned() %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where not exists (
            select 1 from {{ ref('int_campaign_windows') }} as windows
            where windows.campaign_id = {{ this.identifier }}.campaign_id
                and windows.window_start_date is not distinct from {{ this.identifier }}.window_start_date
                and windows.window_end_date is not distinct from {{ this.identifier }}.window_end_date
        )
    {%- endif -%}
{% endmacro %}


{#- True on an incremental run when the staging table holds an event, new since this table
    was last built, that is a re-export naming another campaign or message than an earlier
    version did (stg_email__email_events `_moved`). The message it left would keep counting
    it, and that message cannot be told from the staging table, which holds the newest
    version only: the table is then rebuilt from every event (a rare night; the pre-hook
    empties it, the model selects all). "New since": loaded after, or dated after, every
    event the staging table held when this table was built (its rows keep both,
    `_events_loaded_watermark` and `_events_occurred_watermark`; this table's own
    watermarks see only the events inside campaign windows). -#}
{% macro email_messages_moved_events() %}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ ref('stg_email__email_events') }}
        where _moved
            and (_loaded_at > (select max(_events_loaded_watermark) from {{ this }})
                or occurred_at > (select max(_events_occurred_watermark) from {{ this }}))
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{% endmacro %}


{#- Pre-hook: empty the table when the as-of went backwards (incremental_rebuild_hook) or
    an event moved to another message (email_messages_moved_events). -#}
{% macro email_messages_rebuild_hook(date_watermark_sql) %}
    {%- if email_messages_moved_events() -%}
        {{ log("incremental: " ~ this ~ ": a re-exported email event names another campaign or message; rebuilding it", info=true) }}
        delete from {{ this }}
    {%- else -%}
        {{ incremental_rebuild_hook(date_watermark_sql) }}
    {%- endif -%}
{% endmacro %}
