-- Predicted customer lifetime value per customer (an account with at least one purchase by
-- as-of): P(alive) and expected purchases over the next clv_horizon_days (BG/NBD), expected
-- spend per purchase (Gamma-Gamma) and their product discounted monthly at
-- clv_discount_rate_monthly. Computed in the Python model int_customer_clv_scored; this SQL
-- mart gives it an enforced contract.
with

scored as (

    select * from {{ ref('int_customer_clv_scored') }}

),

final as (

    select
        cast(account_id as varchar) as account_id,
        cast(as_of_date as date) as as_of_date,
        cast(probability_alive as double precision) as probability_alive,
        cast(expected_purchases_365d as double precision) as expected_purchases_365d,
        cast(expected_avg_purchase_value_jpy as double precision) as expected_avg_purchase_value_jpy,
        cast(predicted_clv_365d_jpy as double precision) as predicted_clv_365d_jpy,
        cast(horizon_days as integer) as horizon_days
    from scored

)

select * from final
