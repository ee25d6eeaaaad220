-- Joint sales x marketing upsell KPIs per fiscal period (period_type fiscal_month,
-- fiscal_quarter, fiscal_year), from the fiscal calendar's first period up to the one
-- containing the as-of date; periods still in progress are included and flagged is_partial.
-- Dates are business-local (a deal closed 2025-03-31T16:00Z counts in April 2025, FY2025).
--   existing_customers   accounts with a purchase before period_start
--   upsold_customers     existing customers with a won upsell deal closed in the period;
--                        upsell_rate = upsold / existing. cross_sold / cross_sell_rate likewise
--                        with cross_sell deals
--   upsell_leads         upsell leads created in the period; upsell_leads_won = those with a
--                        won deal (closed by as-of) carrying their lead_id;
--                        upsell_lead_quality = won / leads
--   upsell_deals_won/lost upsell deals won / lost, closed in the period;
--                        upsell_close_rate = won / (won + lost); upsell_revenue_jpy = amount of
--                        the won ones (CRM view of upsell)
--   avg_ltv_lift_rate / avg_aov_lift_rate  mean of ltv_lift's rates over accounts whose first
--                        won upsell closed in the period (NULL rates ignored)
--   avg_engagement_score mean customer_engagement score of the engagement snapshot(s) taken
--                        in the period (customer_engagement is measured at the as-of date, so
--                        only the periods containing it have a value; closed periods are NULL
--                        until a snapshot history exists)
--   upsell_campaign_cost_jpy / upsell_roi  upsell campaigns that started in the period: their
--                        cost, and (gross profit of the won upsell deals attributed to them in
--                        their attribution window - cost) / cost; see
--                        int_upsell_campaigns_attributed
--   mrr_expansion_jpy / mrr_expansion_accounts  expansion MRR from billing (mrr_movements,
--                        months of the period): upsell measured from billing beside the CRM view
with

fiscal_periods as (

    select * from {{ ref('int_fiscal_periods') }}

),

purchases as (

    select * from {{ ref('int_purchases_aggregated') }}

),

deals as (

    select * from {{ ref('int_deals_attributed') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

upsell_campaigns as (

    select * from {{ ref('int_upsell_campaigns_attributed') }}

),

mrr_movements as (

    select * from {{ ref('mrr_movements') }}

),

ltv_lift as (

    select * from {{ ref('ltv_lift') }}

),

customer_engagement as (

    select * from {{ ref('customer_engagement') }}

),

first_purchases as (

    select account_id, min(purchase_date) as first_purchase_date
    from purchases
    where purchase_date <= {{ as_of_date() }}
    group by account_id

),

first_purchase_days as (

    -- accounts per first-purchase day: the periods count whole days (447k accounts ->
    -- ~2,500 days at L before the range join below)
    select first_purchase_date, count(*) as first_purchasers
    from first_purchases
    group by first_purchase_date

),

existing_customers as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        cast(sum(first_purchase_days.first_purchasers) as bigint) as existing_customers
    from fiscal_periods
    inner join first_purchase_days
        on first_purchase_days.first_purchase_date < fiscal_periods.period_start
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

closed_deal_days as (

    -- the closed upsell deals' counts per local day first: a day lies in one period of
    -- each type, so the periods' sums add up whole days (2.6M deals -> ~1,300 days at L
    -- before the range join)
    select
        closed_date,
        count(case when is_won then 1 end) as upsell_deals_won,
        count(case when is_lost then 1 end) as upsell_deals_lost,
        sum(case when is_won then amount_jpy end) as upsell_revenue_jpy
    from deals
    where deal_type = 'upsell'
        and (is_won or is_lost)
    group by closed_date

),

deal_counts as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        cast(sum(closed_deal_days.upsell_deals_won) as bigint) as upsell_deals_won,
        cast(sum(closed_deal_days.upsell_deals_lost) as bigint) as upsell_deals_lost,
        sum(closed_deal_days.upsell_revenue_jpy) as upsell_revenue_jpy
    from fiscal_periods
    inner join closed_deal_days
        on closed_deal_days.closed_date >= fiscal_periods.period_start
        and closed_deal_days.closed_date <= fiscal_periods.period_end
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

won_customer_days as (

    -- each account's won upsell / cross-sell deals, one row per type and day, with its
    -- first purchase (joined once per deal, before the periods multiply the rows)
    select distinct
        deals.account_id,
        deals.deal_type,
        deals.closed_date,
        first_purchases.first_purchase_date
    from deals
    inner join first_purchases
        on deals.account_id = first_purchases.account_id
    where deals.is_won
        and deals.deal_type in ('upsell', 'cross_sell')

),

customer_counts as (

    -- existing customers (first purchase before the period) with such a deal in the period
    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        count(distinct case when won_customer_days.deal_type = 'upsell' then won_customer_days.account_id end)
            as upsold_customers,
        count(distinct case when won_customer_days.deal_type = 'cross_sell' then won_customer_days.account_id end)
            as cross_sold_customers
    from fiscal_periods
    inner join won_customer_days
        on won_customer_days.closed_date >= fiscal_periods.period_start
        and won_customer_days.closed_date <= fiscal_periods.period_end
        and won_customer_days.first_purchase_date < fiscal_periods.period_start
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

upsell_leads as (

    select
        lead_id,
        {{ local_date('created_at') }} as created_date
    from leads
    where lead_type = 'upsell'
        and {{ on_or_before_as_of('created_at') }}

),

won_lead_ids as (

    select distinct lead_id
    from deals
    where is_won
        and lead_id is not null

),

lead_counts as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        count(upsell_leads.lead_id) as upsell_leads,
        count(won_lead_ids.lead_id) as upsell_leads_won
    from fiscal_periods
    inner join upsell_leads
        on upsell_leads.created_date >= fiscal_periods.period_start
        and upsell_leads.created_date <= fiscal_periods.period_end
    left join won_lead_ids
        on upsell_leads.lead_id = won_lead_ids.lead_id
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

lift as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        count(*) as first_upsell_accounts,
        avg(ltv_lift.ltv_lift_rate) as avg_ltv_lift_rate,
        avg(ltv_lift.aov_lift_rate) as avg_aov_lift_rate
    from fiscal_periods
    inner join ltv_lift
        on {{ local_date('ltv_lift.first_upsell_at') }} >= fiscal_periods.period_start
        and {{ local_date('ltv_lift.first_upsell_at') }} <= fiscal_periods.period_end
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

engagement as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        avg(customer_engagement.engagement_score) as avg_engagement_score
    from fiscal_periods
    inner join customer_engagement
        on customer_engagement.as_of_date >= fiscal_periods.period_start
        and customer_engagement.as_of_date <= fiscal_periods.period_end
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

campaign_returns as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        count(*) as upsell_campaigns,
        sum(upsell_campaigns.cost_jpy) as upsell_campaign_cost_jpy,
        sum(upsell_campaigns.deals_won) as upsell_campaign_deals_won,
        sum(upsell_campaigns.gross_profit_jpy) as upsell_campaign_gross_profit_jpy
    from fiscal_periods
    inner join upsell_campaigns
        on upsell_campaigns.start_date >= fiscal_periods.period_start
        and upsell_campaigns.start_date <= fiscal_periods.period_end
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

expansion_months as (

    select account_id, month, delta_jpy
    from mrr_movements
    where movement = 'expansion'

),

mrr_expansion as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period_start,
        sum(expansion_months.delta_jpy) as mrr_expansion_jpy,
        count(distinct expansion_months.account_id) as mrr_expansion_accounts
    from fiscal_periods
    inner join expansion_months
        on expansion_months.month >= fiscal_periods.period_start
        and expansion_months.month <= fiscal_periods.period_end
    group by fiscal_periods.period_type, fiscal_periods.period_start

),

joined as (

    select
        fiscal_periods.period_type,
        fiscal_periods.period,
        fiscal_periods.period_start,
        fiscal_periods.period_end,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_quarter,
        fiscal_periods.is_partial,
        coalesce(existing_customers.existing_customers, 0) as existing_customers,
        coalesce(customer_counts.upsold_customers, 0) as upsold_customers,
        coalesce(customer_counts.cross_sold_customers, 0) as cross_sold_customers,
        coalesce(lead_counts.upsell_leads, 0) as upsell_leads,
        coalesce(lead_counts.upsell_leads_won, 0) as upsell_leads_won,
        coalesce(deal_counts.upsell_deals_won, 0) as upsell_deals_won,
        coalesce(deal_counts.upsell_deals_lost, 0) as upsell_deals_lost,
        coalesce(deal_counts.upsell_revenue_jpy, 0) as upsell_revenue_jpy,
        coalesce(lift.first_upsell_accounts, 0) as first_upsell_accounts,
        lift.avg_ltv_lift_rate,
        lift.avg_aov_lift_rate,
        engagement.avg_engagement_score,
        coalesce(campaign_returns.upsell_campaigns, 0) as upsell_campaigns,
        coalesce(campaign_returns.upsell_campaign_cost_jpy, 0) as upsell_campaign_cost_jpy,
        coalesce(campaign_returns.upsell_campaign_deals_won, 0) as upsell_campaign_deals_won,
        coalesce(campaign_returns.upsell_campaign_gross_profit_jpy, 0) as upsell_campaign_gross_profit_jpy,
        coalesce(mrr_expansion.mrr_expansion_jpy, 0) as mrr_expansion_jpy,
        coalesce(mrr_expansion.mrr_expansion_accounts, 0) as mrr_expansion_accounts
    from fiscal_periods
    left join existing_customers
        on fiscal_periods.period_type = existing_customers.period_type
        and fiscal_periods.period_start = existing_customers.period_start
    left join deal_counts
        on fiscal_periods.period_type = deal_counts.period_type
        and fiscal_periods.period_start = deal_counts.period_start
    left join customer_counts
        on fiscal_periods.period_type = customer_counts.period_type
        and fiscal_periods.period_start = customer_counts.period_start
    left join lead_counts
        on fiscal_periods.period_type = lead_counts.period_type
        and fiscal_periods.period_start = lead_counts.period_start
    left join lift
        on fiscal_periods.period_type = lift.period_type
        and fiscal_periods.period_start = lift.period_start
    left join engagement
        on fiscal_periods.period_type = engagement.period_type
        and fiscal_periods.period_start = engagement.period_start
    left join campaign_returns
        on fiscal_periods.period_type = campaign_returns.period_type
        and fiscal_periods.period_start = campaign_returns.period_start
    left join mrr_expansion
        on fiscal_periods.period_type = mrr_expansion.period_type
        and fiscal_periods.period_start = mrr_expansion.period_start

),

final as (

    select
        period_type,
        period,
        period_start,
        period_end,
        fiscal_year,
        fiscal_quarter,
        is_partial,
        existing_customers,
        upsold_customers,
        {{ kpi_ratio('upsold_customers', 'existing_customers') }} as upsell_rate,
        cross_sold_customers,
        {{ kpi_ratio('cross_sold_customers', 'existing_customers') }} as cross_sell_rate,
        upsell_leads,
        upsell_leads_won,
        {{ kpi_ratio('upsell_leads_won', 'upsell_leads') }} as upsell_lead_quality,
        upsell_deals_won,
        upsell_deals_lost,
        {{ kpi_ratio('upsell_deals_won', 'upsell_deals_won + upsell_deals_lost') }} as upsell_close_rate,
        {{ kpi_jpy('upsell_revenue_jpy') }} as upsell_revenue_jpy,
        cast(avg_ltv_lift_rate as double precision) as avg_ltv_lift_rate,
        cast(avg_aov_lift_rate as double precision) as avg_aov_lift_rate,
        cast(avg_engagement_score as double precision) as avg_engagement_score,
        {{ kpi_jpy('upsell_campaign_cost_jpy') }} as upsell_campaign_cost_jpy,
        {{ kpi_ratio(
            'upsell_campaign_gross_profit_jpy - upsell_campaign_cost_jpy', 'upsell_campaign_cost_jpy'
        ) }} as upsell_roi,
        first_upsell_accounts,
        upsell_campaigns,
        cast(upsell_campaign_deals_won as bigint) as upsell_campaign_deals_won,
        {{ kpi_jpy('upsell_campaign_gross_profit_jpy') }} as upsell_campaign_gross_profit_jpy,
        {{ kpi_jpy('mrr_expansion_jpy') }} as mrr_expansion_jpy,
        mrr_expansion_accounts
    from joined

)

select * from final
