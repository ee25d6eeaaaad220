-- Every customer's CPM runs cover each month-end from its first run on exactly once: no run
-- is empty, each starts the month-end after the previous one ends, and the last one ends at
-- the last month-end on or before as-of (cpm_transitions counts on that).
with

runs as (

    select * from {{ ref('int_cpm_segment_runs') }}

),

ordered as (

    select
        account_id,
        first_month_end,
        last_month_end,
        lag(last_month_end) over (partition by account_id order by first_month_end) as previous_last_month_end,
        lead(first_month_end) over (partition by account_id order by first_month_end) as next_first_month_end
    from runs

)

select *
from ordered
where
    last_month_end < first_month_end
    or first_month_end <> cast({{ dbt.last_day('first_month_end', 'month') }} as date)
    or (
        previous_last_month_end is not null
        and first_month_end <> cast({{ dbt.last_day(dbt.dateadd('month', 1, 'previous_last_month_end'), 'month') }} as date)
    )
    or (next_first_month_end is null and last_month_end <> {{ last_month_end_as_of() }})
