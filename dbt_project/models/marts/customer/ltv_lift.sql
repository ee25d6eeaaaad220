-- LTV and AOV lift around each account's first won upsell deal.
-- t0 = local_date(closed_at) of the account's first deal with deal_type 'upsell' and stage
-- 'won' (business time zone), closed on or before as-of.
-- before = purchases dated in (t0 - 365 d, t0]; after = purchases in (t0, t0 + 365 d].
-- While the after-year is still running (as-of < t0 + 365 d) revenue after is annualized by
-- 365 / days observed (days observed = as-of - t0); under var ltv_lift_min_observed_days
-- (30) observed, the after-side columns and lifts are null (too little to extrapolate).
-- ltv_lift_rate = (after - before) / before with LTV per year (null when before = 0);
-- aov_lift_rate likewise on average order value (AOV is a ratio, so never annualized).
with

deals as (

    select * from {{ ref('stg_crm__deals') }}

),

purchases as (

    select
        account_id,
        purchase_date,
        purchase_amount_jpy
    from {{ ref('int_purchases_aggregated') }}
    where purchase_date <= {{ as_of_date() }}

),

won_upsells as (

    select
        account_id,
        closed_at,
        {{ local_date('closed_at') }} as closed_date,
        row_number() over (partition by account_id order by closed_at, deal_id) as upsell_number
    from deals
    where deal_type = 'upsell'
        and stage = 'won'
        and closed_at is not null
        and {{ on_or_before_as_of('closed_at') }}

),

first_upsell as (

    select
        account_id,
        closed_at as first_upsell_at,
        closed_date as first_upsell_date,
        least({{ days_between('closed_date', as_of_date()) }}, 365) as days_observed
    from won_upsells
    where upsell_number = 1

),

windows as (

    select
        f.account_id,
        coalesce(sum(case
            when {{ days_between('p.purchase_date', 'f.first_upsell_date') }} >= 0
                and {{ days_between('p.purchase_date', 'f.first_upsell_date') }} < 365
                then p.purchase_amount_jpy
        end), 0) as revenue_before_jpy,
        count(case
            when {{ days_between('p.purchase_date', 'f.first_upsell_date') }} >= 0
                and {{ days_between('p.purchase_date', 'f.first_upsell_date') }} < 365
                then 1
        end) as purchases_before,
        coalesce(sum(case
            when {{ days_between('f.first_upsell_date', 'p.purchase_date') }} > 0
                and {{ days_between('f.first_upsell_date', 'p.purchase_date') }} <= 365
                then p.purchase_amount_jpy
        end), 0) as revenue_after_observed_jpy,
        count(case
            when {{ days_between('f.first_upsell_date', 'p.purchase_date') }} > 0
                and {{ days_between('f.first_upsell_date', 'p.purchase_date') }} <= 365
                then 1
        end) as purchases_after
    from first_upsell as f
    left join purchases as p
        on f.account_id = p.account_id
    group by f.account_id

),

measured as (

    select
        f.account_id,
        f.first_upsell_at,
        f.first_upsell_date,
        f.days_observed,
        f.days_observed >= {{ var('ltv_lift_min_observed_days') }} and f.days_observed > 0 as is_after_observable,
        w.revenue_before_jpy,
        w.purchases_before,
        w.revenue_after_observed_jpy,
        w.purchases_after
    from first_upsell as f
    inner join windows as w
        on f.account_id = w.account_id

),

lifted as (

    select
        *,
        case
            when is_after_observable
                then cast(revenue_after_observed_jpy as double precision) * 365 / days_observed
        end as revenue_after_annualized_jpy,
        case
            when purchases_before > 0
                then cast(revenue_before_jpy as double precision) / purchases_before
        end as aov_before_jpy,
        case
            when is_after_observable and purchases_after > 0
                then cast(revenue_after_observed_jpy as double precision) / purchases_after
        end as aov_after_jpy
    from measured

),

final as (

    select
        account_id,
        first_upsell_at,
        -- sums of decimal(18, 2) widen to decimal(38, 2) on DuckDB: fix the money type
        cast(revenue_before_jpy as decimal(18, 2)) as revenue_before_jpy,
        revenue_after_annualized_jpy,
        case
            when revenue_before_jpy <> 0
                then (revenue_after_annualized_jpy - revenue_before_jpy) / revenue_before_jpy
        end as ltv_lift_rate,
        aov_before_jpy,
        aov_after_jpy,
        case
            when aov_before_jpy <> 0
                then (aov_after_jpy - aov_before_jpy) / aov_before_jpy
        end as aov_lift_rate,
        first_upsell_date,
        {{ as_of_date() }} as as_of_date,
        days_observed,
        is_after_observable,
        days_observed < 365 as is_after_annualized,
        cast(revenue_after_observed_jpy as decimal(18, 2)) as revenue_after_observed_jpy,
        purchases_before,
        purchases_after
    from lifted

)

select * from final
