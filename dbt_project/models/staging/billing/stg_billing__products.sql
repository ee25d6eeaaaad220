with

source as (

    select * from {{ source('billing', 'products') }}

),

as_of_cut as (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source

),

ranked as (

    -- re-exports: the newest version of each record wins
    select
        *,
        row_number() over (
            partition by product_code
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        product_code,
        product_name,
        product_family,
        tier_rank,
        list_price_jpy,
        gross_margin_rate,
        is_subscription,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
