-- Reconciliation: campaign deals are a subset of won deals. Every deal any campaign
-- counts (int_campaign_deals_attributed, summed into campaign_performance.deals_won) must
-- be a won deal with a closing date in stg_crm__deals, and campaign_performance must
-- count exactly those deals. Returns offending rows.

with

attributed as (

    select * from {{ ref('int_campaign_deals_attributed') }}

),

deals as (

    select * from {{ ref('stg_crm__deals') }}

),

performance as (

    select * from {{ ref('campaign_performance') }}

),

not_won as (

    select
        attributed.campaign_id,
        attributed.deal_id,
        'not a won deal in stg_crm__deals' as problem
    from attributed
    left join deals
        on attributed.deal_id = deals.deal_id
    where deals.deal_id is null
        or deals.stage <> 'won'
        or deals.closed_at is null

),

attributed_counts as (

    select
        campaign_id,
        count(distinct deal_id) as deals
    from attributed
    group by campaign_id

),

miscounted as (

    select
        performance.campaign_id,
        cast(null as varchar) as deal_id,
        'deals_won differs from the attributed won deals' as problem
    from performance
    left join attributed_counts
        on performance.campaign_id = attributed_counts.campaign_id
    where performance.deals_won <> coalesce(attributed_counts.deals, 0)

)

select * from not_won
union all
select * from miscounted
