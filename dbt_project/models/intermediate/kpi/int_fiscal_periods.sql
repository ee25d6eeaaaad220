{{ config(materialized='table') }}
-- The fiscal calendar: one row per period_type (fiscal_month, fiscal_quarter, fiscal_year)
-- and period, from the fiscal year of the earliest dated record (purchase, subscription
-- start, deal or lead creation) up to the period containing the as-of date. The fiscal year
-- starts in var fiscal_year_start_month (April): FY2025 = April 2025 - March 2026, Q1 =
-- April-June. Periods still in progress at the as-of date are flagged is_partial.
with

purchases as (

    select purchase_date as dated_on from {{ ref('int_purchases_aggregated') }}

),

subscriptions as (

    select start_date as dated_on from {{ ref('stg_billing__subscriptions') }}

),

deals as (

    select {{ local_date('created_at') }} as dated_on from {{ ref('stg_crm__deals') }}

),

leads as (

    select {{ local_date('created_at') }} as dated_on from {{ ref('stg_crm__leads') }}

),

all_dates as (

    select dated_on from purchases
    union all
    select dated_on from subscriptions
    union all
    select dated_on from deals
    union all
    select dated_on from leads

),

bounds as (

    -- with no data at all the calendar is just the as-of date's fiscal year
    select
        cast({{ fiscal_year('coalesce(min(dated_on), ' ~ as_of_date() ~ ')') }} as integer) as first_fiscal_year,
        cast({{ fiscal_year(as_of_date()) }} as integer) as last_fiscal_year
    from all_dates
    where dated_on <= {{ as_of_date() }}

),

digits as (

    -- the alias names the column (sqlfluff's AL05 sees an unused alias)
    select n from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as t (n)  -- noqa: AL05

),

numbers as (

    -- 0..999: enough fiscal years, and 0..11 month offsets
    select ones.n + 10 * tens.n + 100 * hundreds.n as n
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds

),

fiscal_years as (

    select bounds.first_fiscal_year + numbers.n as fiscal_year
    from bounds
    inner join numbers
        on numbers.n <= bounds.last_fiscal_year - bounds.first_fiscal_year

),

months as (

    select
        fiscal_years.fiscal_year,
        numbers.n as month_offset,
        {{ kpi_add_months(
            'make_date(fiscal_years.fiscal_year, ' ~ var('fiscal_year_start_month') ~ ', 1)',
            'numbers.n') }} as period_start
    from fiscal_years
    inner join numbers
        on numbers.n < 12

),

month_periods as (

    select
        'fiscal_month' as period_type,
        cast(extract(year from period_start) as varchar)
        || '-' || lpad(cast(extract(month from period_start) as varchar), 2, '0') as period,
        period_start,
        {{ kpi_add_days(kpi_add_months('period_start', 1), -1) }} as period_end,
        fiscal_year,
        cast(floor(month_offset / 3) + 1 as integer) as fiscal_quarter,
        cast(month_offset + 1 as integer) as fiscal_month_number
    from months

),

quarter_periods as (

    select
        'fiscal_quarter' as period_type,
        'FY' || cast(fiscal_year as varchar) || '-Q' || cast(fiscal_quarter as varchar) as period,
        min(period_start) as period_start,
        max(period_end) as period_end,
        fiscal_year,
        fiscal_quarter,
        cast(null as integer) as fiscal_month_number
    from month_periods
    group by fiscal_year, fiscal_quarter

),

year_periods as (

    select
        'fiscal_year' as period_type,
        'FY' || cast(fiscal_year as varchar) as period,
        min(period_start) as period_start,
        max(period_end) as period_end,
        fiscal_year,
        cast(null as integer) as fiscal_quarter,
        cast(null as integer) as fiscal_month_number
    from month_periods
    group by fiscal_year

),

all_periods as (

    select * from month_periods
    union all
    select * from quarter_periods
    union all
    select * from year_periods

),

final as (

    select
        period_type,
        period,
        period_start,
        period_end,
        fiscal_year,
        fiscal_quarter,
        fiscal_month_number,
        period_end > {{ as_of_date() }} as is_partial
    from all_periods
    where period_start <= {{ as_of_date() }}

)

select * from final
