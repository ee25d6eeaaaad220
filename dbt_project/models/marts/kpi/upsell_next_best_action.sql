-- The list sales works from (誰に・いつ・何を): one row per account and action (upsell |
-- cross_sell) with a product to propose and at least one timing reason now. Accounts
-- excluded in upsell_propensity (unhappy: low NPS, recent support ticket) never appear.
-- Reason codes (see upsell_nba_reason_codes for the Japanese descriptions), in this order:
--   renewal_30_60d    an active subscription renews nba_renewal_min_days..max_days (30-60)
--                     days after as-of, both ends inclusive            (upsell, cross_sell)
--   fiscal_year_end   the account's fiscal year-end (last day of fiscal_year_end_month,
--                     default March) is on or after as-of and within nba_fiscal_year_end_months
--                     (2) months of it                                  (upsell, cross_sell)
--   april_onboarding  as-of falls in the onboarding season, months var
--                     nba_onboarding_months (default [3, 4], 4月の入社)   (cross_sell)
--   usage_near_limit  max usage_rate of active subscriptions >= nba_usage_rate_min (0.8)
--                                                                       (upsell)
--   recent_inquiry    an inquiry in the last nba_inquiry_days (30)      (upsell, cross_sell)
-- reasons = the codes joined with ','. window_start = as-of; window_end = the latest
-- deadline among the reasons: renewal date - nba_renewal_min_days (still 1-2 months ahead),
-- the fiscal year-end, the last day of the onboarding season, or as-of +
-- nba_action_window_days (30) for usage and inquiry signals.
-- decision_maker_contact_id = the account's decision maker (is_decision_maker) created
-- first, then lowest contact_id; NULL when the CRM has none.
-- predicted_clv_365d_jpy and probability_alive (customer_clv_prediction) let sales rank the
-- list by what the account will be worth; NULL for an account without a purchase yet.
{%- set onboarding_months = var('nba_onboarding_months', [3, 4]) %}
{%- set action_window_days = var('nba_action_window_days', 30) %}
{#- the first day of the last onboarding month of the as-of year -#}
{%- set onboarding_season_start = 'make_date(cast(extract(year from ' ~ as_of_date() ~ ') as integer), '
    ~ (onboarding_months | max) ~ ', 1)' %}
with

propensity as (

    select * from {{ ref('upsell_propensity') }}

),

signals as (

    select * from {{ ref('int_accounts_upsell_signals') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

clv_prediction as (

    select * from {{ ref('customer_clv_prediction') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

upcoming_renewals as (

    select
        account_id,
        min(renewal_date) as renewal_date
    from subscriptions
    where start_date <= {{ as_of_date() }}
        and (end_date is null or end_date > {{ as_of_date() }})
        and renewal_date >= {{ kpi_add_days(as_of_date(), var('nba_renewal_min_days')) }}
        and renewal_date <= {{ kpi_add_days(as_of_date(), var('nba_renewal_max_days')) }}
    group by account_id

),

decision_makers as (

    select
        account_id,
        contact_id,
        row_number() over (partition by account_id order by created_at nulls last, contact_id) as contact_rank
    from contacts
    where is_decision_maker

),

fiscal_year_ends as (

    -- the account's next fiscal year-end on or after as-of
    select
        account_id,
        case
            when {{ kpi_add_days(kpi_add_months(
                    'make_date(cast(extract(year from ' ~ as_of_date() ~ ') as integer), cast(fiscal_year_end_month as integer), 1)', 1), -1) }}
                >= {{ as_of_date() }}
                then {{ kpi_add_days(kpi_add_months(
                    'make_date(cast(extract(year from ' ~ as_of_date() ~ ') as integer), cast(fiscal_year_end_month as integer), 1)', 1), -1) }}
            else {{ kpi_add_days(kpi_add_months(
                    'make_date(cast(extract(year from ' ~ as_of_date() ~ ') as integer) + 1, cast(fiscal_year_end_month as integer), 1)', 1), -1) }}
        end as fiscal_year_end_date
    from signals

),

candidate_actions as (

    select account_id, 'upsell' as action, recommended_product_code as product_code, score
    from propensity
    where not is_excluded and recommended_product_code is not null
    union all
    select account_id, 'cross_sell' as action, cross_sell_product_code as product_code, score
    from propensity
    where not is_excluded and cross_sell_product_code is not null

),

timing as (

    select
        candidate_actions.*,
        upcoming_renewals.renewal_date,
        fiscal_year_ends.fiscal_year_end_date,
        case when upcoming_renewals.renewal_date is not null then 'renewal_30_60d' end as renewal_reason,
        case
            when
                fiscal_year_ends.fiscal_year_end_date
                <= {{ kpi_add_months(as_of_date(), var('nba_fiscal_year_end_months')) }}
                then 'fiscal_year_end'
        end as fiscal_year_end_reason,
        case
            when candidate_actions.action = 'cross_sell'
                and extract(month from {{ as_of_date() }}) in ({{ onboarding_months | join(', ') }})
                then 'april_onboarding'
        end as onboarding_reason,
        case
            when candidate_actions.action = 'upsell'
                and signals.max_usage_rate >= {{ var('nba_usage_rate_min') }}
                then 'usage_near_limit'
        end as usage_reason,
        case
            when {{ kpi_in_last_days('signals.last_inquiry_date', var('nba_inquiry_days')) }}
                then 'recent_inquiry'
        end as inquiry_reason
    from candidate_actions
    inner join signals
        on candidate_actions.account_id = signals.account_id
    left join upcoming_renewals
        on candidate_actions.account_id = upcoming_renewals.account_id
    left join fiscal_year_ends
        on candidate_actions.account_id = fiscal_year_ends.account_id

),

windows as (

    select
        *,
        greatest(
            case
                when renewal_reason is not null
                    then {{ kpi_add_days('renewal_date', -var('nba_renewal_min_days')) }}
            end,
            case when fiscal_year_end_reason is not null then fiscal_year_end_date end,
            case
                when onboarding_reason is not null
                    then {{ kpi_add_days(kpi_add_months(onboarding_season_start, 1), -1) }}
            end,
            case
                when usage_reason is not null or inquiry_reason is not null
                    then {{ kpi_add_days(as_of_date(), action_window_days) }}
            end
        ) as window_end
    from timing

),

final as (

    select
        windows.account_id,
        decision_makers.contact_id as decision_maker_contact_id,
        windows.action,
        windows.product_code,
        {{ as_of_date() }} as window_start,
        windows.window_end,
        concat_ws(
            ',', renewal_reason, fiscal_year_end_reason, onboarding_reason, usage_reason, inquiry_reason
        ) as reasons,
        cast(
            case when renewal_reason is not null then 1 else 0 end
            + case when fiscal_year_end_reason is not null then 1 else 0 end
            + case when onboarding_reason is not null then 1 else 0 end
            + case when usage_reason is not null then 1 else 0 end
            + case when inquiry_reason is not null then 1 else 0 end
            as integer
        ) as reason_count,
        windows.score,
        {{ as_of_date() }} as as_of_date,
        clv_prediction.predicted_clv_365d_jpy,
        clv_prediction.probability_alive
    from windows
    left join decision_makers
        on windows.account_id = decision_makers.account_id
        and decision_makers.contact_rank = 1
    left join clv_prediction
        on windows.account_id = clv_prediction.account_id
    where coalesce(renewal_reason, fiscal_year_end_reason, onboarding_reason, usage_reason, inquiry_reason) is not null

)

select * from final
