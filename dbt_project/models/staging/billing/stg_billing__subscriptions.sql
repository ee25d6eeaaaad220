{#- A table, not a view (CONTRIBUTING.md, "Layout and style"): five models and three data tests read it,
    and as a view each of them ranked every version of every record again. -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('billing', 'subscriptions') }}

),

as_of_cut as (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where ({{ on_or_before_as_of('updated_at') }})

),

ranked as (

    -- re-exports: the newest version of each record wins
    select
        *,
        row_number() over (
            partition by subscription_id
            order by updated_at desc nulls last, _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        subscription_id,
        account_id,
        product_code,
        seats,
        mrr_jpy,
        usage_rate,
        start_date,
        end_date,
        renewal_date,
        status,
        updated_at,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
