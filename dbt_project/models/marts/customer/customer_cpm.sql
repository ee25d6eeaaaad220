-- Customer Portfolio Management (CPM): one row per customer at the as-of date, in one of
-- 10 segments (5 base segments x lapsed or not). Thresholds are vars:
-- cpm_amount_threshold_jpy (1,000,000), cpm_tenure_days (365), cpm_lapse_days (365).
-- The same macros classify every month-end in int_cpm_segment_runs.
with

summary as (

    select * from {{ ref('int_customer_purchase_summary') }}

),

measured as (

    select
        account_id,
        as_of_date,
        first_purchase_date,
        last_purchase_date,
        purchase_count,
        -- a sum of decimal(18, 2) widens to decimal(38, 2) on DuckDB: fix the money type
        cast(revenue_jpy as decimal(18, 2)) as total_amount_jpy,
        {{ days_between('first_purchase_date', 'last_purchase_date') }} as tenure_days,
        {{ days_between('last_purchase_date', 'as_of_date') }} as days_since_last_purchase
    from summary

),

segmented as (

    select
        *,
        {{ customer_cpm_is_lapsed('days_since_last_purchase') }} as is_lapsed,
        {{ customer_cpm_base_segment('purchase_count', 'total_amount_jpy', 'tenure_days') }} as cpm_base_segment,
        {{ customer_cpm_segment('purchase_count', 'total_amount_jpy', 'tenure_days', 'days_since_last_purchase') }}
            as cpm_segment
    from measured

),

final as (

    select
        account_id,
        as_of_date,
        purchase_count,
        total_amount_jpy,
        tenure_days,
        days_since_last_purchase,
        is_lapsed,
        cpm_segment,
        {{ customer_cpm_segment_ja('cpm_segment') }} as cpm_segment_ja,
        cpm_base_segment,
        first_purchase_date,
        last_purchase_date
    from segmented

)

select * from final
