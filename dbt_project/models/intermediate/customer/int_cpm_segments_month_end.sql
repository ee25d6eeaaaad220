{{ config(materialized='table') }}

-- The CPM segment of every customer at every month-end up to the as-of date, computed
-- directly from purchases (a month-end spine x accounts), not from the nightly snapshots
-- in customer_cpm_history. So month-end segments, and the transitions built on them, are
-- the same whichever nights the job happened to run, and a backfill or a restated invoice
-- corrects every month-end at once.
--
-- Knowledge date: purchases as known on the run's as-of date (staging's as-of cut). Each
-- month-end M counts only purchases dated <= M, with the same rules as customer_cpm at M.
-- An account appears from the month-end of its first purchase on; before that it is not
-- yet a customer (cpm_transitions shows that as from_segment 'none').
with

purchases as (

    select
        account_id,
        purchase_date,
        purchase_amount_jpy
    from {{ ref('int_purchases_aggregated') }}
    where purchase_date <= {{ as_of_date() }}

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
    group by 1, 2

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(purchase_date)') }} as timestamp) as first_month_start,
        cast({{ as_of_date() }} as timestamp) as as_of_ts
    from purchases

),

month_spine as (

    -- every month-end from the first purchase's month to the last full month-end <= as-of
    select month_end
    from (
        select cast({{ dbt.last_day('cast(s.month_start as date)', 'month') }} as date) as month_end
        from bounds
        cross join lateral generate_series(bounds.first_month_start, bounds.as_of_ts, interval '1 month')
            as s (month_start)
    ) as spine
    where month_end <= {{ as_of_date() }}

),

accounts as (

    select
        account_id,
        min(month_end) as first_month_end,
        min(first_purchase_in_month) as first_purchase_date
    from monthly
    group by account_id

),

grid as (

    select
        a.account_id,
        a.first_purchase_date,
        s.month_end
    from accounts as a
    inner join month_spine as s
        on s.month_end >= a.first_month_end

),

cumulative as (

    select
        g.account_id,
        g.month_end,
        g.first_purchase_date,
        cast(sum(coalesce(m.purchases, 0)) over account_months as {{ dbt.type_bigint() }}) as purchase_count,
        sum(coalesce(m.revenue_jpy, 0)) over account_months as total_amount_jpy,
        max(m.last_purchase_in_month) over account_months as last_purchase_date
    from grid as g
    left join monthly as m
        on g.account_id = m.account_id
        and g.month_end = m.month_end
    window account_months as (
        partition by g.account_id
        order by g.month_end
        rows between unbounded preceding and current row
    )

),

measured as (

    select
        account_id,
        month_end,
        purchase_count,
        total_amount_jpy,
        first_purchase_date,
        last_purchase_date,
        {{ days_between('first_purchase_date', 'last_purchase_date') }} as tenure_days,
        {{ days_between('last_purchase_date', 'month_end') }} as days_since_last_purchase
    from cumulative

),

final as (

    select
        account_id,
        month_end,
        {{ as_of_date() }} as as_of_date,
        purchase_count,
        total_amount_jpy,
        first_purchase_date,
        last_purchase_date,
        tenure_days,
        days_since_last_purchase,
        {{ customer_cpm_is_lapsed('days_since_last_purchase') }} as is_lapsed,
        {{ customer_cpm_segment('purchase_count', 'total_amount_jpy', 'tenure_days', 'days_since_last_purchase') }}
            as cpm_segment
    from measured

)

select
    *,
    {{ customer_cpm_segment_ja('cpm_segment') }} as cpm_segment_ja
from final
