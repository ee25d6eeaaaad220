-- Product pairs bought by the same accounts, within each industry (業種): the same
-- formulas as cross_sell_affinity, with every count taken inside the industry.
with

segmented_pairs as (

    select * from {{ ref('int_product_affinity_segmented') }}

),

final as (

    select
        segment as industry,
        product_a,
        product_b,
        customers_a,
        customers_b,
        pair_customers,
        purchasing_accounts,
        support,
        confidence,
        lift
    from segmented_pairs
    where segment_type = 'industry'

)

select * from final
