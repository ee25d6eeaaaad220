with

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

campaigns as (

    select * from {{ ref('stg_plan__campaigns') }}

),

messages as (

    select * from {{ ref('int_email_messages_summarised') }}

),

dm_sends as (

    select * from {{ ref('stg_email__dm_sends') }}

),

seminar_registrations as (

    select * from {{ ref('stg_email__seminar_attendance') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

campaign_deals as (

    select * from {{ ref('int_campaign_deals_attributed') }}

),

pdca_actions as (

    select * from {{ ref('pdca_actions') }}

),

email_counts as (

    select
        campaign_id,
        {{ campaign_email_counts() }}
    from messages
    group by campaign_id

),

dm_counts as (

    -- the mailing list is the campaign's roster: every row counts (no window filter)
    select
        campaign_id,
        count(*) as list_size,
        count(case when address_status = 'undeliverable' then 1 end) as undeliverable
    from dm_sends
    group by campaign_id

),

seminar_counts as (

    -- registrations are the campaign's roster: every row counts (no window filter)
    select
        campaign_id,
        count(*) as registrants,
        count(case when attended then 1 end) as attendees,
        avg(cast(feedback_score as double precision)) as avg_feedback_score
    from seminar_registrations
    group by campaign_id

),

inquiry_counts as (

    -- inquiry activities carrying the campaign_id, on a business-local date in the window
    select
        activities.campaign_id,
        count(distinct activities.activity_id) as inquiries
    from activities
    inner join windows
        on activities.campaign_id = windows.campaign_id
    where activities.activity_type = 'inquiry'
        and {{ local_date('activities.occurred_at') }} >= windows.window_start_date
        and {{ local_date('activities.occurred_at') }} <= windows.window_end_date
    group by activities.campaign_id

),

deal_totals as (

    select
        campaign_id,
        count(distinct deal_id) as deals_won,
        sum(amount_jpy) as won_amount_jpy,
        sum(gross_profit_jpy) as gross_profit_jpy
    from campaign_deals
    group by campaign_id

),

joined as (

    select
        windows.campaign_id,
        windows.campaign_name,
        windows.channel,
        windows.objective,
        campaigns.target_product_family,
        windows.start_date,
        windows.end_date,
        windows.attribution_window_days,
        windows.window_start_date,
        windows.window_end_date,
        windows.as_of_date,
        windows.is_started,
        windows.is_window_closed,
        coalesce(email_counts.sent, 0) as sent,
        coalesce(email_counts.bounced, 0) as bounced,
        coalesce(email_counts.sent, 0) - coalesce(email_counts.bounced, 0) as delivered,
        coalesce(email_counts.unique_opens, 0) as unique_opens,
        coalesce(email_counts.unique_clicks, 0) as unique_clicks,
        coalesce(email_counts.replies, 0) as replies,
        coalesce(email_counts.unsubscribes, 0) as unsubscribes,
        coalesce(email_counts.human_unique_opens, 0) as human_unique_opens,
        coalesce(email_counts.human_unique_clicks, 0) as human_unique_clicks,
        coalesce(dm_counts.list_size, 0) as list_size,
        coalesce(dm_counts.undeliverable, 0) as undeliverable,
        coalesce(dm_counts.list_size, 0) - coalesce(dm_counts.undeliverable, 0) as deliverable,
        coalesce(seminar_counts.registrants, 0) as registrants,
        coalesce(seminar_counts.attendees, 0) as attendees,
        seminar_counts.avg_feedback_score,
        coalesce(inquiry_counts.inquiries, 0) as inquiries,
        coalesce(deal_totals.deals_won, 0) as deals_won,
        coalesce(deal_totals.won_amount_jpy, 0) as won_amount_jpy,
        coalesce(deal_totals.gross_profit_jpy, 0) as gross_profit_jpy,
        campaigns.cost_jpy,
        campaigns.gross_profit_per_deal_jpy
    from windows
    left join campaigns
        on windows.campaign_id = campaigns.campaign_id
    left join email_counts
        on windows.campaign_id = email_counts.campaign_id
    left join dm_counts
        on windows.campaign_id = dm_counts.campaign_id
    left join seminar_counts
        on windows.campaign_id = seminar_counts.campaign_id
    left join inquiry_counts
        on windows.campaign_id = inquiry_counts.campaign_id
    left join deal_totals
        on windows.campaign_id = deal_totals.campaign_id

),

measured as (

    select
        joined.*,
        {{ campaign_email_rates() }},
        {{ campaign_ratio('inquiries', 'deliverable') }} as response_rate,
        {{ campaign_ratio('attendees', 'registrants') }} as attendance_rate,
        cast(ceil(cost_jpy / nullif(gross_profit_per_deal_jpy, 0)) as bigint) as break_even_deals,
        {{ campaign_ratio('gross_profit_jpy - cost_jpy', 'cost_jpy') }} as roi,
        cast(
            round(cast(cost_jpy / nullif(deals_won, 0) as {{ dbt.type_numeric() }}), 2)
            as decimal(18, 2)
        ) as cost_per_deal_jpy
    from joined

),

verdict as (

    -- campaign-level ROI / break-even verdict: met when roi >= 0 (gross profit covers the
    -- cost), missed when roi < 0, no_data when roi cannot be computed or not started
    select
        measured.*,
        deals_won >= break_even_deals as is_break_even_reached,
        case
            when not is_started or roi is null then 'no_data'
            when roi >= 0 then 'met'
            else 'missed'
        end as roi_status
    from measured

),

action_candidates as (

    -- rules for kpi 'roi' (see the pdca_actions seed for the matching order)
    select
        verdict.campaign_id,
        pdca_actions.suggested_action_ja,
        pdca_actions.suggested_action_en,
        row_number() over (
            partition by verdict.campaign_id
            order by
                pdca_actions.priority,
                case when pdca_actions.channel = '*' then 1 else 0 end,
                case when pdca_actions.condition is null then 1 else 0 end
        ) as rule_rank
    from verdict
    inner join pdca_actions
        on pdca_actions.kpi = 'roi'
        and pdca_actions.status = verdict.roi_status
        and (pdca_actions.channel = verdict.channel or pdca_actions.channel = '*')
        and (
            pdca_actions.condition is null
            or (
                pdca_actions.condition = 'below_break_even_deals'
                and verdict.deals_won < verdict.break_even_deals
            )
            or (pdca_actions.condition = 'roi_negative' and verdict.roi < 0)
        )

),

final as (

    select
        verdict.campaign_id,
        verdict.campaign_name,
        verdict.channel,
        verdict.objective,
        verdict.target_product_family,
        verdict.start_date,
        verdict.end_date,
        verdict.attribution_window_days,
        verdict.window_start_date,
        verdict.window_end_date,
        verdict.as_of_date,
        verdict.is_started,
        verdict.is_window_closed,
        cast(verdict.sent as bigint) as sent,
        cast(verdict.bounced as bigint) as bounced,
        cast(verdict.delivered as bigint) as delivered,
        cast(verdict.unique_opens as bigint) as unique_opens,
        cast(verdict.unique_clicks as bigint) as unique_clicks,
        cast(verdict.replies as bigint) as replies,
        cast(verdict.unsubscribes as bigint) as unsubscribes,
        verdict.open_rate,
        verdict.click_rate,
        verdict.reply_rate,
        verdict.unsubscribe_rate,
        verdict.click_to_open_rate,
        verdict.bounce_rate,
        cast(verdict.human_unique_opens as bigint) as human_unique_opens,
        cast(verdict.human_unique_clicks as bigint) as human_unique_clicks,
        verdict.human_open_rate,
        verdict.human_click_rate,
        cast(verdict.list_size as bigint) as list_size,
        cast(verdict.undeliverable as bigint) as undeliverable,
        cast(verdict.deliverable as bigint) as deliverable,
        verdict.response_rate,
        cast(verdict.registrants as bigint) as registrants,
        cast(verdict.attendees as bigint) as attendees,
        verdict.attendance_rate,
        verdict.avg_feedback_score,
        cast(verdict.inquiries as bigint) as inquiries,
        cast(verdict.deals_won as bigint) as deals_won,
        cast(verdict.won_amount_jpy as decimal(18, 2)) as won_amount_jpy,
        cast(verdict.gross_profit_jpy as decimal(18, 2)) as gross_profit_jpy,
        cast(verdict.cost_jpy as decimal(18, 2)) as cost_jpy,
        cast(verdict.gross_profit_per_deal_jpy as decimal(18, 2)) as gross_profit_per_deal_jpy,
        verdict.break_even_deals,
        verdict.is_break_even_reached,
        verdict.roi,
        verdict.cost_per_deal_jpy,
        verdict.roi_status,
        action_candidates.suggested_action_ja as roi_suggested_action_ja,
        action_candidates.suggested_action_en as roi_suggested_action_en
    from verdict
    left join action_candidates
        on verdict.campaign_id = action_candidates.campaign_id
        and action_candidates.rule_rank = 1

)

select * from final
