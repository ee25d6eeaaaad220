{#- A table, not a view (CONTRIBUTING.md, "Layout and style"): four models and six data tests read it,
    and as a view each of them ranked every version of every record again. -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('crm', 'deals') }}

),

as_of_cut as (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where ({{ on_or_before_as_of('updated_at') }})
        and {{ on_or_before_as_of('created_at') }}

),

ranked as (

    -- re-exports: the newest version of each record wins
    select
        *,
        row_number() over (
            partition by deal_id
            order by updated_at desc nulls last, _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        deal_id,
        account_id,
        deal_type,
        stage,
        amount_jpy,
        product_code,
        lead_id,
        campaign_id,
        owner,
        created_at,
        closed_at,
        updated_at,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
