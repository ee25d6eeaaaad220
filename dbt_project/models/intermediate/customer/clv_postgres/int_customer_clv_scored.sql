-- depends_on: {{ ref('int_customer_purchase_summary') }}
-- depends_on: {{ ref('int_clv_model_fits') }}
-- Postgres stand-in for the Python model clv_duckdb/int_customer_clv_scored.py: the rows
-- written to source clv_scoring.customer_clv_scored by upsell.pg_clv with the same Python
-- function (upsell.clv_marts.score_customers), between the two dbt builds of
-- `upsell run --target postgres` (see int_clv_model_fits.sql). Vars: clv_horizon_days,
-- clv_discount_rate_monthly (this model's config).
with

scored as (

    select * from {{ source('clv_scoring', 'customer_clv_scored') }}

),

final as (

    select
        account_id,
        as_of_date,
        probability_alive,
        expected_purchases_365d,
        expected_avg_purchase_value_jpy,
        predicted_clv_365d_jpy,
        horizon_days
    from scored

)

select * from final
