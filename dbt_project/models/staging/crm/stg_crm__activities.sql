{#- A table, not a view (CONTRIBUTING.md, "Layout and style"): three models and three data tests read it,
    and as a view each of them ranked every version of every record again. -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('crm', 'activities') }}

),

as_of_cut as (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where {{ on_or_before_as_of('occurred_at') }}

),

ranked as (

    -- re-exports: the newest version of each record wins
    select
        *,
        row_number() over (
            partition by activity_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        activity_id,
        account_id,
        {{ email_hash('contact_email') }} as contact_email_hash,
        activity_type,
        campaign_id,
        occurred_at,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
