"""Per-customer predictions from the parameters in int_clv_model_fits: P(alive), expected
purchases and spend per purchase over the horizon, discounted CLV.

A Python model calling upsell.clv_marts.score_customers. Vars through the model's config
(see _customer__intermediate.yml): clv_horizon_days, clv_discount_rate_monthly. The mart
customer_clv_prediction selects from here under an enforced contract.

DuckDB only; on Postgres see clv_postgres/int_customer_clv_scored.sql and upsell.pg_clv.
"""


def model(dbt, session):
    from upsell.clv_marts import score_customers

    dbt.config(materialized="table")
    summary = dbt.ref("int_customer_purchase_summary").df()
    fits = dbt.ref("int_clv_model_fits").df()
    return score_customers(summary, fits, horizon_days=float(dbt.config.get("clv_horizon_days")),
                           monthly_discount_rate=float(dbt.config.get("clv_discount_rate_monthly")))
