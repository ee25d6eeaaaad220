"""BG/NBD and Gamma-Gamma fitted by maximum likelihood on every customer's clv_* inputs.

A Python model (dbt-duckdb runs it in the dbt process): the math is in upsell.clv, the
table glue in upsell.clv_marts.fit_models. Vars arrive through the model's config (see
_customer__intermediate.yml): clv_time_unit, clv_l2_penalty. The mart clv_model_params
selects from here under an enforced contract (dbt does not enforce contracts on Python
models).

DuckDB only (this folder is enabled on the duckdb target): on Postgres, which runs no Python
models, the SQL stand-in clv_postgres/int_clv_model_fits.sql takes this name and upsell.pg_clv
calls the same function between two dbt builds.
"""


def model(dbt, session):
    from upsell.clv_marts import fit_models

    dbt.config(materialized="table")
    summary = dbt.ref("int_customer_purchase_summary").df()
    return fit_models(summary, time_unit=str(dbt.config.get("clv_time_unit")),
                      l2_penalty=float(dbt.config.get("clv_l2_penalty")))
