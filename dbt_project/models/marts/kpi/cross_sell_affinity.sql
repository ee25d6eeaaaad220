-- Product pairs bought by the same accounts (company-wide): who bought A, what else they
-- bought within affinity_window_days of it. Formulas: int_product_affinity_segmented.
with

segmented_pairs as (

    select * from {{ ref('int_product_affinity_segmented') }}

),

final as (

    select
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
    where segment_type = 'all'

)

select * from final
