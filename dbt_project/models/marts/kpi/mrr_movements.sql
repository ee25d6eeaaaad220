-- Subscription revenue movement per account and fiscal month, from billing.
-- mrr_start_jpy = MRR at the previous month-end, mrr_end_jpy = MRR at this month-end (the
-- as-of date for the month in progress); see int_account_mrr_month_ends for the rule.
-- movement:
--   new           start = 0, end > 0, and the account never had MRR at an earlier month-end
--   reactivation  start = 0, end > 0, and the account had MRR at some earlier month-end
--   expansion     start > 0, end > start
--   contraction   start > 0, 0 < end < start
--   churn         start > 0, end = 0
--   flat          start = end > 0
-- Rows exist from an account's first month with MRR on, only where start > 0 or end > 0.
with

account_month_ends as (

    select * from {{ ref('int_account_mrr_month_ends') }}

),

fiscal_periods as (

    select * from {{ ref('int_fiscal_periods') }}

),

months as (

    select
        period_start as month_start,
        period_end as month_end,
        fiscal_year,
        fiscal_quarter,
        is_partial
    from fiscal_periods
    where period_type = 'fiscal_month'

),

account_first_months as (

    select account_id, min(month_start) as first_month_start
    from account_month_ends
    group by account_id

),

account_month_grid as (

    select
        account_first_months.account_id,
        months.month_start,
        months.month_end,
        months.fiscal_year,
        months.fiscal_quarter,
        months.is_partial
    from account_first_months
    inner join months
        on months.month_start >= account_first_months.first_month_start

),

with_month_end_mrr as (

    select
        account_month_grid.*,
        coalesce(account_month_ends.mrr_jpy, 0) as mrr_end_jpy
    from account_month_grid
    left join account_month_ends
        on account_month_grid.account_id = account_month_ends.account_id
        and account_month_grid.month_start = account_month_ends.month_start

),

with_start_mrr as (

    select
        *,
        coalesce(lag(mrr_end_jpy) over (partition by account_id order by month_start), 0) as mrr_start_jpy,
        coalesce(max(case when mrr_end_jpy > 0 then 1 else 0 end) over (
            partition by account_id order by month_start
            rows between unbounded preceding and 1 preceding
        ), 0) as had_mrr_before
    from with_month_end_mrr

),

classified as (

    select
        *,
        case
            when mrr_start_jpy = 0 and mrr_end_jpy > 0 and had_mrr_before = 1 then 'reactivation'
            when mrr_start_jpy = 0 and mrr_end_jpy > 0 then 'new'
            when mrr_start_jpy > 0 and mrr_end_jpy = 0 then 'churn'
            when mrr_end_jpy > mrr_start_jpy then 'expansion'
            when mrr_end_jpy < mrr_start_jpy then 'contraction'
            else 'flat'
        end as movement
    from with_start_mrr
    where mrr_start_jpy > 0 or mrr_end_jpy > 0

),

final as (

    select
        account_id,
        month_start as month,
        month_end,
        case when month_end > {{ as_of_date() }} then {{ as_of_date() }} else month_end end as measured_on,
        fiscal_year,
        fiscal_quarter,
        {{ kpi_jpy('mrr_start_jpy') }} as mrr_start_jpy,
        {{ kpi_jpy('mrr_end_jpy') }} as mrr_end_jpy,
        movement,
        {{ kpi_jpy('mrr_end_jpy - mrr_start_jpy') }} as delta_jpy,
        is_partial
    from classified

)

select * from final
