-- depends_on: {{ ref('int_customer_purchase_summary') }}
-- Postgres stand-in for the Python model clv_duckdb/int_clv_model_fits.py (dbt-postgres runs
-- no Python models). `upsell run --target postgres` builds everything this model depends on
-- (selector clv_inputs), then fits BG/NBD and Gamma-Gamma with the same Python function
-- (upsell.clv_marts.fit_models, called by upsell.pg_clv) on int_customer_purchase_summary and
-- writes source clv_scoring.clv_model_fits, then builds the rest (selector after_clv_inputs).
-- The depends_on line above keeps the DAG the same as DuckDB's: summary -> fits.
-- Vars: clv_time_unit, clv_l2_penalty (this model's config; upsell.pg_clv reads them from
-- the manifest, so --vars overrides apply as on DuckDB).
with

fits as (

    select * from {{ source('clv_scoring', 'clv_model_fits') }}

),

final as (

    select
        model,
        parameter,
        value,
        log_likelihood,
        customers,
        as_of_date,
        time_unit,
        currency
    from fits

)

select * from final
