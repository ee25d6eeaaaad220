{%- set kpis = [
    ('open_rate', 'human_open_rate', 'open_rate', false),
    ('click_rate', 'human_click_rate', 'click_rate', false),
    ('reply_rate', 'reply_rate', 'reply_rate', false),
    ('response_rate', 'response_rate', 'response_rate', false),
    ('attendees', 'attendees', 'attendees', true),
    ('inquiries', 'inquiries', 'inquiries', true),
    ('deals', 'deals_won', 'deals_won', true),
] -%}
{#- (kpi, actual column, raw actual column, is a count). Open and click use the HUMAN
    rates (machine opens/clicks excluded); the raw rates are kept in raw_actual_value.
    A count is NULL (no_data) before the campaign has started. -#}

with

campaigns as (

    select * from {{ ref('stg_plan__campaigns') }}

),

performance as (

    select * from {{ ref('campaign_performance') }}

),

pdca_actions as (

    select * from {{ ref('pdca_actions') }}

),

kpi_rows as (

    -- Plan vs Check: one row per campaign x KPI whose target_<kpi> is filled in
    {% for kpi, actual, raw_actual, is_count in kpis %}
    select
        performance.campaign_id,
        cast({{ loop.index }} as integer) as kpi_order,
        '{{ kpi }}' as kpi,
        cast(campaigns.target_{{ kpi }} as double precision) as target_value,
        -- a count KPI has an actual value only once the campaign has started
        case
            when {{ 'performance.is_started' if is_count else 'true' }}
                then cast(performance.{{ actual }} as double precision)
        end as actual_value,
        case
            when {{ 'performance.is_started' if is_count else 'true' }}
                then cast(performance.{{ raw_actual }} as double precision)
        end as raw_actual_value
    from performance
    inner join campaigns
        on performance.campaign_id = campaigns.campaign_id
    where campaigns.target_{{ kpi }} is not null
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

checked as (

    select
        kpi_rows.*,
        actual_value - target_value as gap,
        actual_value / nullif(target_value, 0) as achievement_ratio,
        case
            when actual_value is null then 'no_data'
            when actual_value >= target_value then 'met'
            else 'missed'
        end as status
    from kpi_rows

),

with_conditions as (

    -- campaign-level facts the action rules may depend on (seed column `condition`)
    select
        checked.*,
        performance.channel,
        performance.campaign_name,
        performance.as_of_date,
        performance.is_window_closed,
        performance.deals_won,
        performance.break_even_deals,
        performance.is_break_even_reached,
        performance.roi,
        performance.roi_status,
        performance.roi_suggested_action_ja,
        performance.roi_suggested_action_en,
        1 = max(case when checked.kpi = 'inquiries' and checked.status = 'met' then 1 else 0 end)
            over (partition by checked.campaign_id) as is_inquiries_met,
        coalesce(performance.deals_won < performance.break_even_deals, false)
            as is_below_break_even_deals,
        coalesce(performance.roi < 0, false) as is_roi_negative
    from checked
    inner join performance
        on checked.campaign_id = performance.campaign_id

),

action_candidates as (

    -- Act: the matching rule with the lowest priority; ties -> channel-specific, then
    -- conditioned rule
    select
        with_conditions.campaign_id,
        with_conditions.kpi,
        pdca_actions.suggested_action_ja,
        pdca_actions.suggested_action_en,
        row_number() over (
            partition by with_conditions.campaign_id, with_conditions.kpi
            order by
                pdca_actions.priority,
                case when pdca_actions.channel = '*' then 1 else 0 end,
                case when pdca_actions.condition is null then 1 else 0 end
        ) as rule_rank
    from with_conditions
    inner join pdca_actions
        on pdca_actions.kpi = with_conditions.kpi
        and pdca_actions.status = with_conditions.status
        and (pdca_actions.channel = with_conditions.channel or pdca_actions.channel = '*')
        and (
            pdca_actions.condition is null
            or (pdca_actions.condition = 'inquiries_met' and with_conditions.is_inquiries_met)
            or (
                pdca_actions.condition = 'below_break_even_deals'
                and with_conditions.is_below_break_even_deals
            )
            or (pdca_actions.condition = 'roi_negative' and with_conditions.is_roi_negative)
        )

),

final as (

    select
        with_conditions.campaign_id,
        with_conditions.campaign_name,
        with_conditions.channel,
        with_conditions.as_of_date,
        with_conditions.kpi,
        with_conditions.kpi_order,
        with_conditions.target_value,
        with_conditions.actual_value,
        with_conditions.raw_actual_value,
        with_conditions.gap,
        with_conditions.achievement_ratio,
        with_conditions.status,
        with_conditions.is_window_closed as is_final,
        {% if var('pdca_suggested_action_language', 'ja') == 'en' -%}
        action_candidates.suggested_action_en as suggested_action,
        {%- else -%}
        action_candidates.suggested_action_ja as suggested_action,
        {%- endif %}
        action_candidates.suggested_action_ja,
        action_candidates.suggested_action_en,
        with_conditions.deals_won,
        with_conditions.break_even_deals,
        with_conditions.is_break_even_reached,
        with_conditions.roi,
        with_conditions.roi_status,
        with_conditions.roi_suggested_action_ja,
        with_conditions.roi_suggested_action_en
    from with_conditions
    left join action_candidates
        on with_conditions.campaign_id = action_candidates.campaign_id
        and with_conditions.kpi = action_candidates.kpi
        and action_candidates.rule_rank = 1

)

select * from final
