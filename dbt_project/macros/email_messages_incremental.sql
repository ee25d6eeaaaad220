{#- Pre-hooks of int_email_messages_summarised (incremental; see the top of the model), the
    first also of int_email_messages_received.
    Order matters: the changed messages are deleted first, with the same watermarks the
    model's SQL was compiled with (the table is unchanged until then); the re-planned
    campaigns' rows afterwards (no watermark involved). The model then inserts the rows of
    exactly what these deleted, plus what is new. -#}

{#- `keys`: the event columns that name a message in the table (int_email_messages_received
    keys it by message_id alone, the campaign summary by campaign and message). -#}
{% macro email_messages_delete_changed(date_watermark_sql, keys=('campaign_id', 'message_id')) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ ref('stg_email__email_events') }} as changed
            where
                {%- for key in keys %}
                changed.{{ key }} = {{ this.identifier }}.{{ key }} and
                {%- endfor %}
                {{ incremental_changed_rows(date_watermark_sql, effective_ts_sql='changed.occurred_at') }}
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
