-- Customer lifetime value per customer (account with at least one purchase by as-of).
-- Seed formula: LTV = average purchase value x purchase frequency x duration, i.e.
-- projected_ltv_jpy = aov_jpy x annual_frequency x expected_lifespan_years, where
-- expected_lifespan_years = 1 / annual churn rate, capped at var ltv_max_lifespan_years (10).
-- Annual churn rate (company-wide, one value for the run): among accounts active at
-- (as-of - 365 days), the share with no purchase in the 365 days after it. A churn rate of
-- 0 gives the cap; with no account active a year ago it is unknown and lifespan and the
-- projection are null.
-- clv_* are the inputs of probabilistic CLV models (BG/NBD, Gamma-Gamma), exactly as
-- lifetimes.utils.summary_data_from_transaction_data(freq='D') (see int_customer_purchase_summary).
with

summary as (

    select * from {{ ref('int_customer_purchase_summary') }}

),

churn as (

    select
        count(case when was_active_year_ago then 1 end) as accounts_active_year_ago,
        count(case when was_active_year_ago and purchases_365d = 0 then 1 end) as accounts_churned,
        cast(count(case when was_active_year_ago and purchases_365d = 0 then 1 end) as double precision)
        / nullif(count(case when was_active_year_ago then 1 end), 0) as annual_churn_rate
    from summary

),

lifespan as (

    select
        *,
        case
            when annual_churn_rate is null then null
            when annual_churn_rate = 0 then cast({{ var('ltv_max_lifespan_years') }} as double precision)
            else least(cast({{ var('ltv_max_lifespan_years') }} as double precision), 1 / annual_churn_rate)
        end as expected_lifespan_years
    from churn

),

final as (

    select
        s.account_id,
        s.as_of_date,
        -- a sum of decimal(18, 2) widens to decimal(38, 2) on DuckDB: fix the money type
        cast(s.revenue_jpy as decimal(18, 2)) as historical_ltv_jpy,
        s.purchase_count,
        cast(s.revenue_jpy as double precision) / s.purchase_count as aov_jpy,
        s.purchases_365d as annual_frequency,
        l.expected_lifespan_years,
        cast(s.revenue_jpy as double precision) / s.purchase_count
        * s.purchases_365d * l.expected_lifespan_years as projected_ltv_jpy,
        s.clv_frequency,
        s.clv_recency_days,
        s.clv_t_days,
        -- a mean (decimal / integer): double here, numeric on Postgres; fix it as double like aov_jpy
        cast(s.clv_monetary_value_jpy as double precision) as clv_monetary_value_jpy,
        l.annual_churn_rate,
        l.accounts_active_year_ago,
        l.accounts_churned,
        s.first_purchase_date,
        s.last_purchase_date
    from summary as s
    cross join lifespan as l

)

select * from final
