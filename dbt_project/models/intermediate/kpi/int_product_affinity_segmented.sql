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

account_products as (

    -- the products each account bought, with its industry. An account is in one industry
    -- (int_affinity_purchases takes it from the account), so every count below is made per
    -- industry from distinct rows, and the company-wide one is the sum over industries
    select distinct account_id, industry, product_code
    from purchases

),

industry_accounts as (

    select industry, count(distinct account_id) as purchasing_accounts
    from account_products
    group by industry

),

segment_accounts as (

    select 'all' as segment_type, 'all' as segment, cast(sum(purchasing_accounts) as bigint) as purchasing_accounts
    from industry_accounts
    union all
    select 'industry' as segment_type, industry as segment, purchasing_accounts
    from industry_accounts

),

industry_product_customers as (

    select industry, product_code, count(*) as customers
    from account_products
    group by industry, product_code

),

product_customers as (

    select 'all' as segment_type, 'all' as segment, product_code, cast(sum(customers) as bigint) as customers
    from industry_product_customers
    group by product_code
    union all
    select 'industry' as segment_type, industry as segment, product_code, customers
    from industry_product_customers

),

account_pairs as (

    -- the ordered pairs each account bought within affinity_window_days of each other,
    -- one row per account and pair (the join is most of this model's time)
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

industry_pairs as (

    select industry, product_a, product_b, count(*) as pair_customers
    from account_pairs
    group by industry, product_a, product_b

),

pairs as (

    select
        'all' as segment_type,
        'all' as segment,
        product_a,
        product_b,
        cast(sum(pair_customers) as bigint) as pair_customers
    from industry_pairs
    group by product_a, product_b
    union all
    select 'industry' as segment_type, industry as segment, product_a, product_b, pair_customers
    from industry_pairs

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
