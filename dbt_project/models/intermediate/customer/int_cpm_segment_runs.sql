{#- Incremental (macros/cpm_runs_incremental.sql): within a month a run recomputes only the
    accounts whose purchases up to the last month-end changed (their `_purchases_fingerprint`
    differs) and new ones; the pre-hook deletes their runs first. The first night of a month,
    or other cpm vars, recompute everything. -#}
{%- set recompute_all = cpm_runs_recompute_all() -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ cpm_runs_delete_stale() }}"]
    )
}}

-- The CPM segment of every customer at every month-end up to the as-of date, stored as runs:
-- one row per stretch of consecutive month-ends an account spent in one segment
-- (first_month_end .. last_month_end, both included). Computed directly from purchases, not
-- from the nightly snapshots in customer_cpm_history, so month-end segments, and the
-- transitions built on them, are the same whichever nights the job happened to run, and a
-- backfill or a restated invoice corrects every month-end at once.
--
-- Why runs and not a row per account and month-end: between two months with purchases an
-- account's count, revenue and tenure stay put, and only the days since its last purchase
-- grow, so its segment changes at most once there (when it lapses). A month-end grid is
-- months x customers rows (15M at L scale) to say what a few runs per customer say.
--
-- Knowledge date: purchases as known on the run's as-of date (staging's as-of cut). Each
-- month-end M counts only purchases dated <= M, with the same rules as customer_cpm at M.
-- An account's first run starts at the month-end of its first purchase (before that it is
-- not yet a customer: cpm_transitions shows that as from_segment 'none'); its last run ends
-- at the last month-end on or before as-of (a month still running has no segment yet).
with

purchases as (

    select
        account_id,
        purchase_date,
        purchase_amount_jpy
    from {{ ref('int_purchases_aggregated') }}
    -- purchases after the last month-end fall in the month still running
    where purchase_date <= {{ last_month_end_as_of() }}
    {%- if not recompute_all %}
        -- the accounts with no runs left after the pre-hook: purchases changed, or new
        and account_id not in (select distinct account_id from {{ this }})
    {%- endif %}

),

fingerprints as (

    -- what each account's runs are computed from, to tell the next run whether it changed
    {{ account_purchases_fingerprints('purchases') }}

),

monthly as (

    select
        account_id,
        cast({{ dbt.last_day('purchase_date', 'month') }} as date) as month_end,
        count(*) as purchases,
        sum(purchase_amount_jpy) as revenue_jpy,
        min(purchase_date) as first_purchase_in_month,
        max(purchase_date) as last_purchase_in_month
    from purchases
    group by account_id, month_end

),

spans as (

    -- a month with purchases starts a span that lasts until the month-end before the
    -- account's next month with purchases, or until the last month-end
    select
        monthly.account_id,
        monthly.month_end as span_start,
        coalesce(
            cast(
                {{ dbt.last_day(dbt.dateadd('month', -1, 'lead(monthly.month_end) over account_months'), 'month') }}
                as date
            ),
            {{ last_month_end_as_of() }}
        ) as span_end,
        cast(sum(monthly.purchases) over account_months_so_far as {{ dbt.type_bigint() }}) as purchase_count,
        sum(monthly.revenue_jpy) over account_months_so_far as total_amount_jpy,
        min(monthly.first_purchase_in_month) over account_months_so_far as first_purchase_date,
        monthly.last_purchase_in_month as last_purchase_date
    from monthly
    window
        account_months as (partition by monthly.account_id order by monthly.month_end),
        account_months_so_far as (
            partition by monthly.account_id
            order by monthly.month_end
            rows between unbounded preceding and current row
        )

),

classified as (

    -- a span lapses at the first month-end at least cpm_lapse_days after its last purchase
    select
        *,
        cast(
            {{ dbt.last_day(dbt.dateadd('day', var('cpm_lapse_days'), 'last_purchase_date'), 'month') }}
            as date
        ) as lapsed_from
    from spans

),

runs as (

    -- a span is one run, or two when it lapses before it ends: active until the month-end
    -- before lapsed_from, lapsed from there
    select
        account_id,
        span_start as first_month_end,
        case
            when lapsed_from <= span_end
                then cast({{ dbt.last_day(dbt.dateadd('month', -1, 'lapsed_from'), 'month') }} as date)
            else span_end
        end as last_month_end,
        purchase_count,
        total_amount_jpy,
        first_purchase_date,
        last_purchase_date
    from classified
    where span_start < lapsed_from

    union all

    select
        account_id,
        case when lapsed_from > span_start then lapsed_from else span_start end as first_month_end,
        span_end as last_month_end,
        purchase_count,
        total_amount_jpy,
        first_purchase_date,
        last_purchase_date
    from classified
    where lapsed_from <= span_end

),

measured as (

    -- the segment at a run's first month-end is its segment at every month-end of the run,
    -- classified by the same macros as customer_cpm
    select
        *,
        {{ days_between('first_purchase_date', 'last_purchase_date') }} as tenure_days,
        {{ days_between('last_purchase_date', 'first_month_end') }} as days_since_last_purchase
    from runs

),

segmented as (

    select
        account_id,
        first_month_end,
        last_month_end,
        purchase_count,
        total_amount_jpy,
        first_purchase_date,
        last_purchase_date,
        tenure_days,
        {{ customer_cpm_is_lapsed('days_since_last_purchase') }} as is_lapsed,
        {{ customer_cpm_segment('purchase_count', 'total_amount_jpy', 'tenure_days', 'days_since_last_purchase') }}
            as cpm_segment
    from measured

),

final as (

    select
        segmented.*,
        {{ customer_cpm_segment_ja('segmented.cpm_segment') }} as cpm_segment_ja,
        fingerprints.fingerprint as _purchases_fingerprint,
        {{ cpm_runs_rules() }} as _rules,
        {{ incremental_batch_no() }} as _batch_no
    from segmented
    inner join fingerprints
        on segmented.account_id = fingerprints.account_id

)

select * from final
