{#- Incremental (macros/purchase_summary_incremental.sql): a night recomputes the accounts whose
    purchases up to as-of changed (their `_purchases_fingerprint` differs) or that had a
    purchase day leave one of the windows as the as-of moved; the pre-hook deletes their rows
    first, a post-hook moves the others' as_of_date and clv_t_days on. -#}
{%- set previous_as_of = purchase_summary_previous_as_of() -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ purchase_summary_delete_stale() }}"],
        post_hook=["{{ purchase_summary_move_as_of() }}"]
    )
}}

-- One row per account with at least one purchase by the as-of date: the purchase facts
-- that customer_rfm, customer_cpm, customer_ltv and customer_engagement share, so every
-- mart uses the same windows. A table: four marts read it.
--
-- Windows follow the spec: "the N days up to D" is D - N < d <= D, so a purchase exactly
-- 365 days before as-of is outside the 365-day window (the account is then not active).
-- The clv_* columns reproduce lifetimes' summary_data_from_transaction_data(freq='D'):
-- purchases are grouped by calendar day first, so two invoices on one day are one period.
with

purchases as (

    select
        account_id,
        purchase_date,
        purchase_amount_jpy
    from {{ ref('int_purchases_aggregated') }}
    -- staging already drops invoices dated after as-of; repeated here so the customer marts
    -- never see a future purchase whatever feeds them
    where purchase_date <= {{ as_of_date() }}
    {%- if previous_as_of is not none %}
        -- the accounts with no row left after the pre-hook
        and account_id not in (select account_id from {{ this }})
    {%- endif %}

),

fingerprints as (

    -- what each row counts, to tell the next run whether it changed
    {{ account_purchases_fingerprints('purchases') }}

),

purchase_days as materialized (

    -- lifetimes' freq='D' period: every purchase of one account on one calendar day
    -- (materialized: read twice below, and grouping it again costs more than keeping it)
    select
        account_id,
        purchase_date,
        count(*) as purchases,
        sum(purchase_amount_jpy) as revenue_jpy,
        {{ days_between('purchase_date', as_of_date()) }} as days_before_as_of
    from purchases
    group by account_id, purchase_date

),

per_account as (

    select
        account_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        cast(sum(purchases) as {{ dbt.type_bigint() }}) as purchase_count,
        sum(revenue_jpy) as revenue_jpy,

        -- RFM lookback window (rfm_lookback_days)
        cast(
            coalesce(sum(case when days_before_as_of < {{ var('rfm_lookback_days') }} then purchases end), 0)
            as {{ dbt.type_bigint() }}
        ) as purchases_lookback,
        coalesce(sum(case when days_before_as_of < {{ var('rfm_lookback_days') }} then revenue_jpy end), 0)
            as revenue_lookback_jpy,

        -- the 365 days up to as-of (active account, annual frequency)
        cast(coalesce(sum(case when days_before_as_of < 365 then purchases end), 0) as {{ dbt.type_bigint() }})
            as purchases_365d,
        coalesce(sum(case when days_before_as_of < 365 then revenue_jpy end), 0) as revenue_365d_jpy,

        -- the 365 days up to (as-of - 365 days): was the account active a year ago?
        cast(
            coalesce(sum(case when days_before_as_of >= 365 and days_before_as_of < 730 then purchases end), 0)
            as {{ dbt.type_bigint() }}
        ) as purchases_prior_365d,

        count(*) as purchase_days
    from purchase_days
    group by account_id

),

first_days as (

    -- revenue of the first purchase day (clv_monetary_value_jpy leaves it out): a join on
    -- the first date, not a row_number() window sorting every purchase day
    select
        per_account.account_id,
        purchase_days.revenue_jpy as first_day_revenue_jpy
    from per_account
    inner join purchase_days
        on per_account.account_id = purchase_days.account_id
        and per_account.first_purchase_date = purchase_days.purchase_date

),

final as (

    select
        per_account.account_id,
        {{ as_of_date() }} as as_of_date,
        first_purchase_date,
        last_purchase_date,
        purchase_count,
        revenue_jpy,
        purchases_lookback,
        revenue_lookback_jpy,
        purchases_365d,
        revenue_365d_jpy,
        purchases_prior_365d,
        purchases_365d > 0 as is_active,
        purchases_prior_365d > 0 as was_active_year_ago,
        purchase_days,

        -- lifetimes summary_data_from_transaction_data(freq='D') semantics
        purchase_days - 1 as clv_frequency,
        {{ days_between('first_purchase_date', 'last_purchase_date') }} as clv_recency_days,
        {{ days_between('first_purchase_date', as_of_date()) }} as clv_t_days,
        case
            when purchase_days > 1
                then cast(revenue_jpy - first_day_revenue_jpy as double precision) / (purchase_days - 1)
            else 0
        end as clv_monetary_value_jpy,
        fingerprints.fingerprint as _purchases_fingerprint,
        {{ purchase_summary_rules() }} as _rules
    from per_account
    inner join first_days
        on per_account.account_id = first_days.account_id
    inner join fingerprints
        on per_account.account_id = fingerprints.account_id

)

select * from final
