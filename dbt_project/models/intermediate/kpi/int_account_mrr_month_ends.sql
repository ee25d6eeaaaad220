{#- Incremental (macros/mrr_incremental.sql): a run recomputes every account's months from
    the month of the previous run's as-of date on, and every month of the accounts whose
    subscription versions changed (their `_versions_fingerprint` differs); the pre-hook
    deletes exactly those rows first. -#}
{%- set since = mrr_recompute_from() -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ mrr_month_ends_delete_stale() }}"]
    )
}}
-- MRR per account at every fiscal month-end (one row per account and month with MRR > 0).
-- MRR at date D = sum of mrr_jpy, in the version in effect at D, of the account's
-- subscriptions active at D (start_date <= D and (end_date is null or end_date > D)); see
-- int_subscriptions_versioned. The month still in progress at the as-of date is measured
-- at the as-of date (measured_on = least(month end, as-of)) and flagged is_partial.
with

fiscal_periods as (

    select * from {{ ref('int_fiscal_periods') }}

),

subscription_versions as (

    select * from {{ ref('int_subscriptions_versioned') }}

),

version_ranges as (

    -- the dates a version counts at: in effect (valid_from <= D < valid_to) and the
    -- subscription active (start_date <= D < end_date); open ends = far future. Two plain
    -- inequalities make this a fast range join.
    select
        account_id,
        subscription_id,
        mrr_jpy,
        case
            when valid_from is not null and valid_from > start_date then valid_from
            else start_date
        end as counts_from,
        case
            when coalesce(valid_to, cast('9999-12-31' as date)) < coalesce(end_date, cast('9999-12-31' as date))
                then coalesce(valid_to, cast('9999-12-31' as date))
            else coalesce(end_date, cast('9999-12-31' as date))
        end as counts_until
    from subscription_versions

),

versions_fingerprints as (

    -- what each account's MRR is computed from, to tell the next run whether it changed
    {{ mrr_versions_fingerprints('subscription_versions') }}

),

month_ends as (

    select
        period_start as month_start,
        period_end as month_end,
        case when period_end > {{ as_of_date() }} then {{ as_of_date() }} else period_end end as measured_on,
        fiscal_year,
        fiscal_quarter,
        is_partial
    from fiscal_periods
    where period_type = 'fiscal_month'

),

{% if since is not none -%}
recomputed_accounts as (

    -- accounts with no rows left after the pre-hook (their versions changed, or they are new):
    -- all their months are recomputed; every other account's from month `since` on
    select account_id from versions_fingerprints
    where account_id not in (select distinct account_id from {{ this }})

),

{% endif -%}
versions_in_effect as (

    select
        month_ends.month_start,
        subscription_versions.account_id,
        subscription_versions.subscription_id,
        subscription_versions.mrr_jpy
    from month_ends
    inner join version_ranges as subscription_versions
        on subscription_versions.counts_from <= month_ends.measured_on
        and subscription_versions.counts_until > month_ends.measured_on
    {%- if since is not none %}
    where month_ends.month_start >= cast('{{ since }}' as date)

    union all

    -- two joins, not one with an OR: each range join stays small
    select
        month_ends.month_start,
        subscription_versions.account_id,
        subscription_versions.subscription_id,
        subscription_versions.mrr_jpy
    from month_ends
    inner join version_ranges as subscription_versions
        on subscription_versions.counts_from <= month_ends.measured_on
        and subscription_versions.counts_until > month_ends.measured_on
    where month_ends.month_start < cast('{{ since }}' as date)
        and subscription_versions.account_id in (select account_id from recomputed_accounts)
    {%- endif %}

),

per_account_month as (

    -- At a date at most one version of a subscription is in effect (int_subscriptions_versioned:
    -- each version counts until the next one starts), so counting rows counts subscriptions.
    -- Grouped by account and month only; the month's other columns join back below
    -- (count(distinct) and a seven-column key cost 5x the whole model at M scale).
    select
        account_id,
        month_start,
        sum(mrr_jpy) as mrr_jpy,
        count(*) as active_subscriptions
    from versions_in_effect
    group by account_id, month_start
    having sum(mrr_jpy) > 0

),

final as (

    select
        per_account_month.account_id,
        month_ends.month_start,
        month_ends.month_end,
        month_ends.measured_on,
        month_ends.fiscal_year,
        month_ends.fiscal_quarter,
        month_ends.is_partial,
        {{ kpi_jpy('per_account_month.mrr_jpy') }} as mrr_jpy,
        per_account_month.active_subscriptions,
        versions_fingerprints.fingerprint as _versions_fingerprint,
        {{ incremental_batch_no() }} as _batch_no
    from per_account_month
    inner join month_ends
        on per_account_month.month_start = month_ends.month_start
    inner join versions_fingerprints
        on per_account_month.account_id = versions_fingerprints.account_id

)

select * from final
