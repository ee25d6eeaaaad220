-- Every deal counted in kpi_sales_marketing.upsell_deals_won is a won deal.
-- Recount, per period, the upsell deals whose CRM stage is 'won' with a business-local close
-- date in the period (and by the as-of date) straight from staging: the mart's count must
-- equal it (a counted non-won deal would make it larger). And no deal the KPI logic treats
-- as won (int_deals_attributed.is_won) may have another stage. Returns offending rows.
with

kpi as (

    select period_type, period_start, period_end, upsell_deals_won
    from {{ ref('kpi_sales_marketing') }}

),

won_upsell_deals as (

    select
        deal_id,
        {{ local_date('closed_at') }} as closed_date
    from {{ ref('stg_crm__deals') }}
    where stage = 'won'
        and deal_type = 'upsell'
        and {{ local_date('closed_at') }} <= {{ as_of_date() }}

),

recount as (

    select
        kpi.period_type,
        kpi.period_start,
        kpi.upsell_deals_won,
        count(won_upsell_deals.deal_id) as won_deals_in_crm
    from kpi
    left join won_upsell_deals
        on won_upsell_deals.closed_date >= kpi.period_start
        and won_upsell_deals.closed_date <= kpi.period_end
    group by kpi.period_type, kpi.period_start, kpi.upsell_deals_won

),

count_mismatches as (

    select
        period_type,
        period_start,
        cast(null as varchar) as deal_id,
        upsell_deals_won,
        won_deals_in_crm
    from recount
    where upsell_deals_won <> won_deals_in_crm

),

non_won_flagged_won as (

    select
        cast(null as varchar) as period_type,
        cast(null as date) as period_start,
        deal_id,
        cast(null as bigint) as upsell_deals_won,
        cast(null as bigint) as won_deals_in_crm
    from {{ ref('int_deals_attributed') }}
    where is_won
        and stage <> 'won'

)

select * from count_mismatches
union all
select * from non_won_flagged_won
