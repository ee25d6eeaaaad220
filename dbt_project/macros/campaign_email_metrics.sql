{#- Campaign PDCA helpers (area: campaign). -#}

{#- User-agent markers of machine email traffic (privacy image proxies, mail-security link
    scanners). Overridable with the var `machine_user_agent_markers` (a list of strings).
    Matching is a case-insensitive substring test. Deliberately NOT 'Apple': every WebKit
    browser (Safari, Chrome, iPhone Mail) sends 'AppleWebKit', so it would flag humans;
    Apple Mail Privacy Protection is caught by 'proxy' (its exports say
    ...PrivacyProxy) and by the machine_event_seconds rule. -#}
{% macro campaign_machine_user_agent_markers() -%}
    {{ return(var('machine_user_agent_markers', [
        'proxy', 'prefetch', 'scanner', 'barracuda', 'mimecast', 'proofpoint', 'safelinks'
    ])) }}
{%- endmacro %}

{#- True when the user agent contains one of the machine markers (NULL user agent: false).
    Portable: position() and lower() exist in DuckDB and Postgres. The NULL case is handled
    outside the tests, not by coalesce(column, '') inside them: DuckDB then evaluates
    lower() and position() once per distinct user agent of a dictionary-compressed column
    (a handful of agents for 50M events at L: 2.9 -> 0.7 s), not once per row. -#}
{% macro campaign_is_machine_user_agent(column) -%}
    {%- set markers = campaign_machine_user_agent_markers() -%}
    {%- if markers | length == 0 -%}
    false
    {%- else -%}
    coalesce(
        {%- for marker in markers %}
        position('{{ marker | lower | replace("'", "''") }}' in lower({{ column }})) > 0
        {%- if not loop.last %} or{% endif %}
        {%- endfor %},
        false
    )
    {%- endif -%}
{%- endmacro %}

{#- A rate as a double: numerator / denominator, NULL when the denominator is 0 or NULL. -#}
{% macro campaign_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- Email counts over int_email_messages_summarised rows (one per message), for any grain.
    sent / bounced / unique_* = distinct messages with at least one such event. -#}
{% macro campaign_email_counts() -%}
        count(case when is_sent then 1 end) as sent,
        count(case when is_bounced then 1 end) as bounced,
        count(case when is_opened then 1 end) as unique_opens,
        count(case when is_clicked then 1 end) as unique_clicks,
        count(case when is_replied then 1 end) as replies,
        count(case when is_unsubscribed then 1 end) as unsubscribes,
        count(case when is_human_opened then 1 end) as human_unique_opens,
        count(case when is_human_clicked then 1 end) as human_unique_clicks
{%- endmacro %}

{#- Email rates from the counts above (columns of the relation being selected from). -#}
{% macro campaign_email_rates() -%}
        {{ campaign_ratio('unique_opens', 'delivered') }} as open_rate,
        {{ campaign_ratio('unique_clicks', 'delivered') }} as click_rate,
        {{ campaign_ratio('replies', 'delivered') }} as reply_rate,
        {{ campaign_ratio('unsubscribes', 'delivered') }} as unsubscribe_rate,
        {{ campaign_ratio('unique_clicks', 'unique_opens') }} as click_to_open_rate,
        {{ campaign_ratio('bounced', 'sent') }} as bounce_rate,
        {{ campaign_ratio('human_unique_opens', 'delivered') }} as human_open_rate,
        {{ campaign_ratio('human_unique_clicks', 'delivered') }} as human_click_rate
{%- endmacro %}
