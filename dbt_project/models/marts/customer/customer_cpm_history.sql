{{
    config(
        materialized='incremental',
        unique_key=['account_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        full_refresh=false,
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where as_of_date = {{ as_of_date() }}{% endif %}",
            "{% if is_incremental() %}{% for col in adapter.get_columns_in_relation(this) %}{% set contract_type = (model.columns.get(col.name) or {}).get('data_type') %}{% if contract_type and col.dtype | lower | replace(' ', '') != contract_type | lower | replace(' ', '') %}alter table {{ this }} alter column {{ col.name }} type {{ contract_type }};{% endif %}{% endfor %}{% endif %}"
        ]
    )
}}

-- CPM segment history: one snapshot of customer_cpm per as-of date the job ran for.
-- Every run (nightly or backfill, in any order) replaces its own as-of date and leaves the
-- other dates alone: delete+insert on (account_id, as_of_date), plus a pre-hook that first
-- clears the whole as-of date so an account that left the snapshot on a re-run (e.g. its
-- only invoice was refunded) does not linger. full_refresh=false: `dbt build
-- --full-refresh` does not wipe the accumulated history (drop the table by hand for that).
-- Month-end transitions do not read this table: see int_cpm_segment_runs.
-- Enforced contract: on_schema_change must be append_new_columns or fail (dbt refuses
-- anything else at parse time). append_new_columns adds a column the contract gains, but
-- leaves the type of an existing column alone, and the history is never rebuilt; so the
-- second pre-hook alters any existing column whose type differs from the contract's
-- data_type (a no-op when they agree; e.g. total_amount_jpy, decimal(38, 2) before the
-- contract, now decimal(18, 2)).
select
    account_id,
    as_of_date,
    purchase_count,
    total_amount_jpy,
    tenure_days,
    days_since_last_purchase,
    is_lapsed,
    cpm_segment,
    cpm_segment_ja,
    cpm_base_segment,
    first_purchase_date,
    last_purchase_date
from {{ ref('customer_cpm') }}
where as_of_date = {{ as_of_date() }}
