-- Engagement score (0-100) per active account (a purchase in the 365 days up to as-of).
-- score = 100 x weighted mean of four components, each a percent rank (0-1, ties share,
-- higher = more engaged) among active accounts:
--   usage    (engagement_weight_usage 0.40):    max usage_rate of the account's active subscriptions
--   email    (engagement_weight_email 0.20):    (unique opened + unique clicked messages) / delivered
--                                                messages, over messages sent in the last
--                                                engagement_lookback_days (90) days
--   activity (engagement_weight_activity 0.20): CRM activities in the last 90 days (count)
--   nps      (engagement_weight_nps 0.20):      latest NPS score up to as-of
-- The weighted sum is divided by the sum of the weights, so edited weights need not add to 1.
-- Missing values: an account without the input (no active subscription, no delivered email
-- in the window, no NPS answer) gets the neutral rank 0.5 (var engagement_missing_rank) for
-- that component; accounts with a value are ranked among themselves. Having no data is
-- not evidence of low engagement, and it must not beat an account that scores low either.
-- Activities have no missing case: no activity is a real count of 0 and ranks lowest.
with

summary as (

    select * from {{ ref('int_customer_purchase_summary') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

email_events as not materialized (

    -- read twice below: inlined, not materialized (all 5M+ events, every column) first
    select * from {{ ref('stg_email__email_events') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

nps as (

    select * from {{ ref('stg_crm__nps_responses') }}

),

active_accounts as (

    select account_id, as_of_date
    from summary
    where is_active

),

usage as (

    -- subscriptions in force on the as-of date
    select
        account_id,
        max(usage_rate) as usage_rate
    from subscriptions
    where status = 'active'
        and start_date <= {{ as_of_date() }}
        and (end_date is null or end_date >= {{ as_of_date() }})
    group by account_id

),

account_emails as (

    select distinct account_id, email_hash
    from contacts
    where email_hash is not null

),

sent_in_window as (

    -- messages with a sent or delivered event in the window. Only these can have their
    -- first such event (sent_at, below) in it, so only their events are aggregated, not
    -- every event of the history. The first condition is a cheap superset (UTC, two days'
    -- margin for any time zone) that spares most rows the local-date conversion.
    select distinct message_id
    from email_events
    where event_type in ('sent', 'delivered')
        and occurred_at >= {{ dbt.dateadd('day', -(var('engagement_lookback_days') + 2), as_of_date()) }}
        and {{ customer_in_window(local_date('occurred_at'), as_of_date(), var('engagement_lookback_days')) }}

),

messages as (

    -- one row per message and account (a recipient hash may be a contact of several accounts)
    select
        c.account_id,
        e.message_id,
        min(case when e.event_type in ('sent', 'delivered') then e.occurred_at end) as sent_at,
        max(case when e.event_type = 'bounced' then 1 else 0 end) as is_bounced,
        max(case when e.event_type = 'opened' then 1 else 0 end) as is_opened,
        max(case when e.event_type = 'clicked' then 1 else 0 end) as is_clicked
    from email_events as e
    inner join sent_in_window as w
        on e.message_id = w.message_id
    inner join account_emails as c
        on e.recipient_email_hash = c.email_hash
    -- implied by the join with sent_in_window, and a range the scan can check against each
    -- row group's min/max: where message ids grow with send time (the generator's do) the
    -- window's messages are a few row groups (at L 2.2M of 50.6M events read, the node's CPU
    -- 4.4 -> 2.7 s); other ids prune nothing and cost two tiny aggregates. DuckDB does not
    -- push the join's own filter into the scan (short ids are compressed for the join first).
    where e.message_id >= (select min(message_id) from sent_in_window)
        and e.message_id <= (select max(message_id) from sent_in_window)
    group by c.account_id, e.message_id

),

email as (

    -- delivered = sent and not bounced (as campaign_performance counts it)
    select
        account_id,
        count(*) as email_delivered_messages,
        -- sum of integers is hugeint on DuckDB, numeric on Postgres
        cast(sum(is_opened) as {{ dbt.type_bigint() }}) as email_unique_opens,
        cast(sum(is_clicked) as {{ dbt.type_bigint() }}) as email_unique_clicks
    from messages
    where sent_at is not null
        and is_bounced = 0
        and {{ customer_in_window(local_date('sent_at'), as_of_date(), var('engagement_lookback_days')) }}
    group by account_id

),

recent_activities as (

    select
        account_id,
        count(*) as recent_activities
    from activities
    where account_id is not null
        -- a cheap superset first (UTC, two days' margin, as in sent_in_window): the local
        -- date is then computed for the window's activities only
        and occurred_at >= {{ dbt.dateadd('day', -(var('engagement_lookback_days') + 2), as_of_date()) }}
        and {{ customer_in_window(local_date('occurred_at'), as_of_date(), var('engagement_lookback_days')) }}
    group by account_id

),

latest_nps as (

    select
        account_id,
        score as latest_nps_score,
        responded_at as latest_nps_at
    from (
        select
            *,
            row_number() over (partition by account_id order by responded_at desc, response_id desc) as rn
        from nps
    ) as ranked
    where rn = 1

),

inputs as (

    select
        a.account_id,
        a.as_of_date,
        u.usage_rate,
        e.email_delivered_messages,
        e.email_unique_opens,
        e.email_unique_clicks,
        cast(e.email_unique_opens + e.email_unique_clicks as double precision)
        / nullif(e.email_delivered_messages, 0) as email_engagement_rate,
        coalesce(r.recent_activities, 0) as recent_activities,
        n.latest_nps_score,
        n.latest_nps_at
    from active_accounts as a
    left join usage as u on a.account_id = u.account_id
    left join email as e on a.account_id = e.account_id
    left join recent_activities as r on a.account_id = r.account_id
    left join latest_nps as n on a.account_id = n.account_id

),

ranked as (

    -- percent ranks among the active accounts that have the value (partition by missing-ness)
    select
        *,
        case
            when usage_rate is not null
                then percent_rank() over (partition by usage_rate is null order by usage_rate)
        end as usage_rank,
        case
            when email_engagement_rate is not null
                then percent_rank() over (partition by email_engagement_rate is null order by email_engagement_rate)
        end as email_rank,
        percent_rank() over (order by recent_activities) as activity_rank,
        case
            when latest_nps_score is not null
                then percent_rank() over (partition by latest_nps_score is null order by latest_nps_score)
        end as nps_rank
    from inputs

),

components as (

    select
        *,
        coalesce(usage_rank, {{ var('engagement_missing_rank', 0.5) }}) as usage_component,
        coalesce(email_rank, {{ var('engagement_missing_rank', 0.5) }}) as email_component,
        activity_rank as activity_component,
        coalesce(nps_rank, {{ var('engagement_missing_rank', 0.5) }}) as nps_component
    from ranked

),

final as (

    select
        account_id,
        as_of_date,
        -- rounded on an explicit numeric(28, 6) (a bare `numeric` is decimal(18, 3) on DuckDB,
        -- which rounded twice: 51.6947 -> 51.695 -> 51.70), then fixed as decimal(18, 2)
        cast(round(cast(100 * (
            {{ var('engagement_weight_usage') }} * usage_component
            + {{ var('engagement_weight_email') }} * email_component
            + {{ var('engagement_weight_activity') }} * activity_component
            + {{ var('engagement_weight_nps') }} * nps_component
        ) / (
            {{ var('engagement_weight_usage') }} + {{ var('engagement_weight_email') }}
            + {{ var('engagement_weight_activity') }} + {{ var('engagement_weight_nps') }}
        ) as {{ dbt.type_numeric() }}), 2) as decimal(18, 2)) as engagement_score,
        usage_component,
        email_component,
        activity_component,
        nps_component,
        usage_rate,
        email_engagement_rate,
        email_delivered_messages,
        email_unique_opens,
        email_unique_clicks,
        recent_activities,
        latest_nps_score,
        latest_nps_at
    from components

)

select * from final
