-- Every customer's CPM runs cover each month-end from its first run on exactly once: no run
-- is empty, each starts the month-end after the previous one ends, and the last one ends at
-- the last month-end on or before as-of (cpm_transitions counts on that).
-- Checks the accounts whose runs the last build wrote (the table is incremental; earlier
-- builds' tests checked the others, and a build writes all runs of an account it recomputes):
-- every account after a first build, a full refresh or a new month-end.
{%- set latest = latest_batch_no(ref('int_cpm_segment_runs')) if var('key_tests_latest_batch_only') else none %}
with

runs as (

    select * from {{ ref('int_cpm_segment_runs') }}
    {%- if latest is not none and latest > 1 %}
    where account_id in (
        select account_id from {{ ref('int_cpm_segment_runs') }}
        where _batch_no = {{ latest }}
    )
    {%- endif %}

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
        and first_month_end
        <> cast({{ dbt.last_day(dbt.dateadd('month', 1, 'previous_last_month_end'), 'month') }} as date)
    )
    or (next_first_month_end is null and last_month_end <> {{ last_month_end_as_of() }})
