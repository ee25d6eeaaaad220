-- Net and gross revenue retention (NRR, GRR) per fiscal year, from billing MRR.
-- Cohort = accounts with MRR at the base date, the last day before the fiscal year (the
-- previous fiscal year's last month-end: "MRR a year ago"). Each cohort account's MRR at
-- the fiscal year's end (the as-of date while the year is in progress, is_partial) is
-- compared with its base MRR:
--   end = 0          -> churn_jpy       = base
--   end > base       -> expansion_jpy   = end - base
--   0 < end < base   -> contraction_jpy = base - end
-- NRR = (base + expansion - contraction - churn) / base   (= cohort end MRR / base MRR)
-- GRR = (base - contraction - churn) / base               (expansion never counts; <= 1)
-- Accounts that were not in the cohort (new in the year) do not count. A fiscal year whose
-- base date is before the calendar starts has no cohort: NRR and GRR are NULL.
with

account_month_ends as not materialized (

    -- read more than once below: inlined, not copied first (DuckDB materializes such CTEs)
    select * from {{ ref('int_account_mrr_month_ends') }}

),

fiscal_periods as (

    select * from {{ ref('int_fiscal_periods') }}

),

fiscal_years as (

    select
        fiscal_year,
        period_start,
        period_end,
        is_partial,
        {{ kpi_add_months('period_start', -1) }} as base_month_start
    from fiscal_periods
    where period_type = 'fiscal_year'

),

last_months as (

    -- the fiscal year's last month-end that exists (the month of the as-of date when partial)
    select fiscal_year, max(period_start) as end_month_start
    from fiscal_periods
    where period_type = 'fiscal_month'
    group by fiscal_year

),

cohort as (

    select
        fiscal_years.fiscal_year,
        account_month_ends.account_id,
        account_month_ends.mrr_jpy as base_mrr_jpy
    from fiscal_years
    inner join account_month_ends
        on account_month_ends.month_start = fiscal_years.base_month_start

),

cohort_end as (

    select
        cohort.fiscal_year,
        cohort.account_id,
        cohort.base_mrr_jpy,
        coalesce(account_month_ends.mrr_jpy, 0) as end_mrr_jpy
    from cohort
    inner join last_months
        on cohort.fiscal_year = last_months.fiscal_year
    left join account_month_ends
        on account_month_ends.account_id = cohort.account_id
        and account_month_ends.month_start = last_months.end_month_start

),

cohort_movements as (

    select
        fiscal_year,
        account_id,
        base_mrr_jpy,
        end_mrr_jpy,
        case when end_mrr_jpy > base_mrr_jpy then end_mrr_jpy - base_mrr_jpy else 0 end as expansion_jpy,
        case
            when end_mrr_jpy > 0 and end_mrr_jpy < base_mrr_jpy then base_mrr_jpy - end_mrr_jpy
            else 0
        end as contraction_jpy,
        case when end_mrr_jpy = 0 then base_mrr_jpy else 0 end as churn_jpy
    from cohort_end

),

per_year as (

    select
        fiscal_year,
        count(*) as cohort_accounts,
        count(case when end_mrr_jpy = 0 then 1 end) as churned_accounts,
        sum(base_mrr_jpy) as base_mrr_jpy,
        sum(expansion_jpy) as expansion_jpy,
        sum(contraction_jpy) as contraction_jpy,
        sum(churn_jpy) as churn_jpy,
        sum(end_mrr_jpy) as retained_mrr_jpy
    from cohort_movements
    group by fiscal_year

),

final as (

    select
        fiscal_years.fiscal_year,
        fiscal_years.period_start,
        fiscal_years.period_end,
        {{ kpi_add_days('fiscal_years.period_start', -1) }} as base_date,
        case
            when fiscal_years.period_end > {{ as_of_date() }} then {{ as_of_date() }}
            else fiscal_years.period_end
        end as measured_on,
        fiscal_years.is_partial,
        coalesce(per_year.cohort_accounts, 0) as cohort_accounts,
        coalesce(per_year.churned_accounts, 0) as churned_accounts,
        {{ kpi_jpy('coalesce(per_year.base_mrr_jpy, 0)') }} as base_mrr_jpy,
        {{ kpi_jpy('coalesce(per_year.expansion_jpy, 0)') }} as expansion_jpy,
        {{ kpi_jpy('coalesce(per_year.contraction_jpy, 0)') }} as contraction_jpy,
        {{ kpi_jpy('coalesce(per_year.churn_jpy, 0)') }} as churn_jpy,
        {{ kpi_jpy('coalesce(per_year.retained_mrr_jpy, 0)') }} as retained_mrr_jpy,
        {{ kpi_ratio(
            'per_year.base_mrr_jpy + per_year.expansion_jpy - per_year.contraction_jpy - per_year.churn_jpy',
            'per_year.base_mrr_jpy') }} as nrr,
        {{ kpi_ratio(
            'per_year.base_mrr_jpy - per_year.contraction_jpy - per_year.churn_jpy',
            'per_year.base_mrr_jpy') }} as grr
    from fiscal_years
    left join per_year
        on fiscal_years.fiscal_year = per_year.fiscal_year

)

select * from final
