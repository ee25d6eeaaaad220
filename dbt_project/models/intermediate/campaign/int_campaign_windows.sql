with

campaigns as (

    select * from {{ ref('stg_plan__campaigns') }}

),

windowed as (

    -- attribution window [start_date, end_date + window days], both ends inclusive,
    -- compared with business-local calendar dates
    select
        campaign_id,
        campaign_name,
        channel,
        objective,
        start_date,
        end_date,
        attribution_window_days is null as is_default_window,
        coalesce(attribution_window_days, {{ var('default_attribution_window_days') }})
            as attribution_window_days,
        start_date as window_start_date,
        cast(
            {{ dbt.dateadd(
                'day',
                'coalesce(attribution_window_days, ' ~ var('default_attribution_window_days') ~ ')',
                'end_date'
            ) }} as date
        ) as window_end_date
    from campaigns

),

final as (

    select
        campaign_id,
        campaign_name,
        channel,
        objective,
        start_date,
        end_date,
        attribution_window_days,
        is_default_window,
        window_start_date,
        window_end_date,
        {{ as_of_date() }} as as_of_date,
        start_date <= {{ as_of_date() }} as is_started,
        window_end_date <= {{ as_of_date() }} as is_window_closed
    from windowed

)

select * from final
