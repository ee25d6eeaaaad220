-- One row per customer (an account with at least one purchase by the as-of date) joining
-- the customer marts for BI: who they are, how they buy (RFM, CPM), what they are worth
-- (LTV; predicted CLV and probability alive), how engaged they are, and what sales should offer them next. Company attributes
-- only: no person's name or email reaches this mart.
with

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

cpm as (

    select * from {{ ref('customer_cpm') }}

),

ltv as (

    select * from {{ ref('customer_ltv') }}

),

clv_prediction as (

    select * from {{ ref('customer_clv_prediction') }}

),

engagement as (

    select * from {{ ref('customer_engagement') }}

),

propensity as (

    select * from {{ ref('upsell_propensity') }}

),

next_actions as (

    -- the strongest action per account (an account may have an upsell and a cross-sell)
    select
        account_id,
        action,
        product_code,
        window_end,
        reasons,
        row_number() over (partition by account_id order by score desc, action) as action_rank
    from {{ ref('upsell_next_best_action') }}

),

final as (

    select
        rfm.account_id,
        rfm.as_of_date,
        accounts.account_name,
        accounts.industry,
        accounts.employee_count,
        accounts.prefecture,
        accounts.fiscal_year_end_month,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary_jpy,
        rfm.rfm_cell,
        rfm.rfm_segment,
        cpm.cpm_segment,
        cpm.cpm_segment_ja,
        cpm.purchase_count,
        cpm.is_lapsed,
        ltv.historical_ltv_jpy,
        ltv.projected_ltv_jpy,
        clv_prediction.predicted_clv_365d_jpy,
        clv_prediction.probability_alive,
        engagement.engagement_score,
        propensity.score as propensity_score,
        propensity.recommended_product_code,
        propensity.cross_sell_product_code,
        propensity.excluded_reason,
        next_actions.action as next_action,
        next_actions.product_code as next_action_product_code,
        next_actions.window_end as next_action_window_end,
        next_actions.reasons as next_action_reasons
    from rfm
    left join accounts on rfm.account_id = accounts.account_id
    left join cpm on rfm.account_id = cpm.account_id
    left join ltv on rfm.account_id = ltv.account_id
    left join clv_prediction on rfm.account_id = clv_prediction.account_id
    left join engagement on rfm.account_id = engagement.account_id
    left join propensity on rfm.account_id = propensity.account_id
    left join next_actions on rfm.account_id = next_actions.account_id and next_actions.action_rank = 1

)

select * from final
