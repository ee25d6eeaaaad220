with

source as (

    select * from {{ source('crm', 'nps_responses') }}

),

as_of_cut as (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where {{ on_or_before_as_of('responded_at') }}

),

ranked as (

    -- re-exports: the newest version of each record wins
    select
        *,
        row_number() over (
            partition by response_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        response_id,
        account_id,
        score,
        responded_at,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
