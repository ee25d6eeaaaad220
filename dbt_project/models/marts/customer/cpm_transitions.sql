-- CPM movement between consecutive month-ends: how many accounts moved from one segment
-- at the previous month-end to another at this month-end (staying put included).
-- Built from int_cpm_segment_runs, which recomputes every month-end from purchases,
-- so the matrix does not depend on which nights the job ran and is right after backfills.
-- period = the later month-end as 'YYYY-MM' (from_month_end -> to_month_end).
-- from_segment 'none' = not yet a customer at the previous month-end (first purchase
-- during the period; Japanese 未購入): acquisitions. to_segment is never 'none': a customer stays a
-- customer and drifts into a *_lapsed segment instead.
--
-- Counted from runs without expanding them to one row per account and month-end: a run
-- moves its account in at its first month-end (from the previous run's segment, or 'none')
-- and keeps it in place at each later month-end it covers. The accounts staying put in a
-- segment at a month-end are a running sum of +1 the month-end after a run starts and -1
-- the month-end after it ends.
with

runs as (

    select * from {{ ref('int_cpm_segment_runs') }}

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(first_month_end)') }} as timestamp) as first_month_start,
        cast(max(last_month_end) as timestamp) as last_month_end
    from runs

),

month_spine as (

    select cast({{ dbt.last_day('cast(s.month_start as date)', 'month') }} as date) as month_end
    from bounds
    cross join lateral generate_series(bounds.first_month_start, bounds.last_month_end, interval '1 month')
        as s (month_start)

),

sequenced as (

    select
        cpm_segment,
        first_month_end,
        last_month_end,
        coalesce(
            lag(cpm_segment) over (partition by account_id order by first_month_end),
            'none'
        ) as previous_segment
    from runs

),

entries as (

    select
        first_month_end as period_end_date,
        previous_segment as from_segment,
        cpm_segment as to_segment,
        count(*) as accounts
    from sequenced
    group by first_month_end, previous_segment, cpm_segment

),

stay_changes as (

    select
        cpm_segment,
        cast({{ dbt.last_day(dbt.dateadd('month', 1, 'first_month_end'), 'month') }} as date) as from_month_end,
        1 as change
    from sequenced
    where last_month_end > first_month_end

    union all

    select
        cpm_segment,
        cast({{ dbt.last_day(dbt.dateadd('month', 1, 'last_month_end'), 'month') }} as date) as from_month_end,
        -1 as change
    from sequenced
    where last_month_end > first_month_end

),

stay_deltas as (

    select
        cpm_segment,
        from_month_end,
        sum(change) as change
    from stay_changes
    group by cpm_segment, from_month_end

),

stays as (

    select
        month_spine.month_end as period_end_date,
        stay_deltas.cpm_segment as from_segment,
        stay_deltas.cpm_segment as to_segment,
        sum(stay_deltas.change) as accounts
    from month_spine
    inner join stay_deltas
        on stay_deltas.from_month_end <= month_spine.month_end
    group by month_spine.month_end, stay_deltas.cpm_segment
    having sum(stay_deltas.change) > 0

),

moves as (

    select * from entries
    union all
    select * from stays

),

counted as (

    select
        period_end_date,
        from_segment,
        to_segment,
        cast(sum(accounts) as {{ dbt.type_bigint() }}) as accounts
    from moves
    group by period_end_date, from_segment, to_segment

),

final as (

    select
        {{ customer_year_month('period_end_date') }} as period,
        cast({{ dbt.last_day(dbt.dateadd('month', -1, 'period_end_date'), 'month') }} as date) as from_month_end,
        period_end_date as to_month_end,
        from_segment,
        to_segment,
        coalesce({{ customer_cpm_segment_ja('from_segment') }}, '未購入') as from_segment_ja,
        {{ customer_cpm_segment_ja('to_segment') }} as to_segment_ja,
        accounts,
        cast(accounts as double precision)
        / sum(accounts) over (partition by period_end_date, from_segment) as share_of_from_segment,
        {{ as_of_date() }} as as_of_date
    from counted

)

select * from final
