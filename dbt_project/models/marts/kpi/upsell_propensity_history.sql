{{
    config(
        materialized='incremental',
        unique_key=['account_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        full_refresh=false,
        pre_hook="{% if is_incremental() %}delete from {{ this }} where as_of_date = {{ as_of_date() }}{% endif %}"
    )
}}

-- Upsell propensity history: one snapshot of upsell_propensity per as-of date the job ran
-- for, so score trends survive the nightly rebuild. A re-run of a date replaces that date
-- (the pre-hook first clears the whole date, so an account that dropped out does not
-- linger); runs for other dates, nightly or backfills in any order, accumulate.
-- full_refresh=false: `dbt build --full-refresh` does not wipe the accumulated history.
select
    account_id,
    as_of_date,
    score,
    contract_value_component,
    tenure_component,
    usage_component,
    headroom_component,
    satisfaction_component,
    current_product_code,
    recommended_product_code,
    cross_sell_product_code,
    excluded_reason,
    is_excluded
from {{ ref('upsell_propensity') }}
where as_of_date = {{ as_of_date() }}
