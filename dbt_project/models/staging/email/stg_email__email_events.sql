with

source as (

    select * from {{ source('email', 'email_events') }}

),

as_of_cut as (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where {{ local_date('occurred_at') }} <= {{ as_of_date() }}

),

ranked as (

    -- re-exports: the newest version of each record wins
    select
        *,
        row_number() over (
            partition by event_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        event_id,
        campaign_id,
        step,
        message_id,
        {{ email_hash('recipient_email') }} as recipient_email_hash,
        event_type,
        occurred_at,
        url,
        user_agent,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
