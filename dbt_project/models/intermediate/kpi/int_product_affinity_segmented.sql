{{ config(materialized='table') }}
-- Co-purchase statistics for ordered product pairs (A, B), A <> B, computed company-wide
-- (segment_type 'all', segment 'all') and within each industry (segment_type 'industry',
-- segment = the industry), over int_affinity_purchases (the last affinity_lookback_days):
--   purchasing_accounts = accounts of the segment with any purchase in the lookback
--   customers_a / customers_b = accounts that bought A / B
--   pair_customers = accounts that bought A and bought B within affinity_window_days (90)
--                    of a purchase of A, on either side (|date_B - date_A| <= 90 days):
--                    the seed's "what buyers of A bought in the same period" (同時期), so
--                    the pair count is symmetric and only confidence differs by direction
--   support    = pair_customers / purchasing_accounts
--   confidence = pair_customers / customers_a
--   lift       = confidence / (customers_b / purchasing_accounts)
-- Only pairs with at least one pair customer are listed.
with

purchases as (

    select * from {{ ref('int_affinity_purchases') }}

),

segmented_purchases as (

    select 'all' as segment_type, 'all' as segment, account_id, product_code, purchased_on
    from purchases
    union all
    select 'industry' as segment_type, industry as segment, account_id, product_code, purchased_on
    from purchases

),

segment_accounts as (

    select segment_type, segment, count(distinct account_id) as purchasing_accounts
    from segmented_purchases
    group by segment_type, segment

),

product_customers as (

    select segment_type, segment, product_code, count(distinct account_id) as customers
    from segmented_purchases
    group by segment_type, segment, product_code

),

account_pairs as (

    -- the ordered pairs each account bought within affinity_window_days of each other,
    -- joined once: an account is in one industry, so the company-wide and the industry
    -- counts below share them (the join is most of this model's time)
    select distinct
        purchase_a.account_id,
        purchase_a.industry,
        purchase_a.product_code as product_a,
        purchase_b.product_code as product_b
    from purchases as purchase_a
    inner join purchases as purchase_b
        on purchase_a.account_id = purchase_b.account_id
        and purchase_a.product_code <> purchase_b.product_code
        and purchase_b.purchased_on >= {{ kpi_add_days('purchase_a.purchased_on', -var('affinity_window_days')) }}
        and purchase_b.purchased_on <= {{ kpi_add_days('purchase_a.purchased_on', var('affinity_window_days')) }}

),

segmented_pairs as (

    select 'all' as segment_type, 'all' as segment, account_id, product_a, product_b
    from account_pairs
    union all
    select 'industry' as segment_type, industry as segment, account_id, product_a, product_b
    from account_pairs

),

pairs as (

    select
        segment_type,
        segment,
        product_a,
        product_b,
        count(distinct account_id) as pair_customers
    from segmented_pairs
    group by segment_type, segment, product_a, product_b

),

final as (

    select
        pairs.segment_type,
        pairs.segment,
        pairs.product_a,
        pairs.product_b,
        customers_a.customers as customers_a,
        customers_b.customers as customers_b,
        pairs.pair_customers,
        segment_accounts.purchasing_accounts,
        {{ kpi_ratio('pairs.pair_customers', 'segment_accounts.purchasing_accounts') }} as support,
        {{ kpi_ratio('pairs.pair_customers', 'customers_a.customers') }} as confidence,
        {{ kpi_ratio('pairs.pair_customers', 'customers_a.customers') }}
            / nullif({{ kpi_ratio('customers_b.customers', 'segment_accounts.purchasing_accounts') }}, 0) as lift
    from pairs
    inner join segment_accounts
        on pairs.segment_type = segment_accounts.segment_type
        and pairs.segment = segment_accounts.segment
    inner join product_customers as customers_a
        on pairs.segment_type = customers_a.segment_type
        and pairs.segment = customers_a.segment
        and pairs.product_a = customers_a.product_code
    inner join product_customers as customers_b
        on pairs.segment_type = customers_b.segment_type
        and pairs.segment = customers_b.segment
        and pairs.product_b = customers_b.product_code

)

select * from final
