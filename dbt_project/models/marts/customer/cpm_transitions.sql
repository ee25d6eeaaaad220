-- CPM movement between consecutive month-ends: how many accounts moved from one segment
-- at the previous month-end to another at this month-end (staying put included).
-- Built from int_cpm_segments_month_end, which recomputes every month-end from purchases,
-- so the matrix does not depend on which nights the job ran and is right after backfills.
-- period = the later month-end as 'YYYY-MM' (from_month_end -> to_month_end).
-- from_segment 'none' = not yet a customer at the previous month-end (first purchase
-- during the period; Japanese 未購入): acquisitions. to_segment is never 'none': a customer stays a
-- customer and drifts into a *_lapsed segment instead.
with

month_end_segments as (

    select * from {{ ref('int_cpm_segments_month_end') }}

),

paired as (

    select
        account_id,
        month_end as period_end_date,
        coalesce(
            lag(cpm_segment) over (partition by account_id order by month_end),
            'none'
        ) as from_segment,
        cpm_segment as to_segment
    from month_end_segments

),

counted as (

    select
        period_end_date,
        from_segment,
        to_segment,
        count(*) as accounts
    from paired
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
