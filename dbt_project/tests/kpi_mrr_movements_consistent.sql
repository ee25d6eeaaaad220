-- mrr_movements is internally consistent: delta = end - start; the movement label matches
-- the start/end MRR (new/reactivation from 0, churn to 0, expansion up, contraction down,
-- flat unchanged); and each month's start equals the account's previous month's end (a
-- missing previous row means it was 0). Returns offending rows.
-- Nightly it checks the rows the last build rewrote (the rewrite log, macros/mrr_incremental.sql),
-- reading them and the month before each (the previous month-end is a rewritten row's start).
{%- set rewrite = mrr_last_rewrite() if var('key_tests_latest_batch_only') else none %}
{%- if rewrite is not none %}
{%- set rewritten_from = "cast('" ~ rewrite.rewritten_from ~ "' as date)" %}
{%- endif %}
with

movements as (

    select
        *,
        lag(month) over (partition by account_id order by month) as previous_month,
        lag(mrr_end_jpy) over (partition by account_id order by month) as previous_end_jpy
    from {{ ref('mrr_movements') }}
    {%- if rewrite is not none %}
    where
        month >= {{ kpi_add_months(rewritten_from, -1) }}
        or account_id in ({{ rewrite.accounts }})
    {%- endif %}

),

checked as (

    select
        *,
        case
            when delta_jpy <> mrr_end_jpy - mrr_start_jpy then 'delta is not end - start'
            when movement in ('new', 'reactivation') and not (mrr_start_jpy = 0 and mrr_end_jpy > 0)
                then 'new/reactivation must go from 0 to > 0'
            when movement = 'churn' and not (mrr_start_jpy > 0 and mrr_end_jpy = 0) then 'churn must go from > 0 to 0'
            when movement = 'expansion' and not (mrr_start_jpy > 0 and mrr_end_jpy > mrr_start_jpy)
                then 'expansion must grow from > 0'
            when movement = 'contraction' and not (mrr_end_jpy > 0 and mrr_end_jpy < mrr_start_jpy)
                then 'contraction must shrink and stay > 0'
            when movement = 'flat' and not (mrr_start_jpy > 0 and mrr_end_jpy = mrr_start_jpy)
                then 'flat must be unchanged and > 0'
            when previous_month = {{ kpi_add_months('month', -1) }} and mrr_start_jpy <> previous_end_jpy
                then 'start is not the previous month end'
            when (previous_month is null or previous_month <> {{ kpi_add_months('month', -1) }}) and mrr_start_jpy <> 0
                then 'start must be 0 after a month without MRR'
        end as problem
    from movements

)

select account_id, month, movement, mrr_start_jpy, mrr_end_jpy, delta_jpy, problem
from checked
where problem is not null
{%- if rewrite is not none %}
    and (month >= {{ rewritten_from }} or account_id in ({{ rewrite.accounts }}))
{%- endif %}
