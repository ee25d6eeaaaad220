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
