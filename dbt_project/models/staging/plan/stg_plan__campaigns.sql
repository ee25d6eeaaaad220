with

source as (

    select * from {{ source('plan', 'campaigns') }}

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
            partition by campaign_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut

),

final as (

    select
        campaign_id,
        campaign_name,
        channel,
        objective,
        target_product_family,
        start_date,
        end_date,
        cost_jpy,
        gross_profit_per_deal_jpy,
        attribution_window_days,
        target_open_rate,
        target_click_rate,
        target_reply_rate,
        target_response_rate,
        target_attendees,
        target_inquiries,
        target_deals,
        _load_id
    from ranked
    where version_rank = 1

)

select * from final
