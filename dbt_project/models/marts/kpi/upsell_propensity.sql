-- Upsell propensity: one row per active account (purchase in the 365 days up to as-of).
-- Each component is percent_rank() (0-1, ties share a rank) among active accounts of a raw
-- signal from int_accounts_upsell_signals, larger = more likely to buy:
--   contract value (MRR of active subscriptions, else revenue in the last 365 days),
--   tenure (days since first purchase), usage (max usage_rate of active subscriptions; 0
--   without one), growth headroom ((max tier - current tier) / (max tier - 1)), satisfaction
--   (latest NPS / 10; accounts without a response get the median of those with one).
-- score = 100 x (w_contract x contract + w_tenure x tenure + w_usage x usage
--               + w_headroom x headroom + w_satisfaction x satisfaction), weights = vars,
--         rounded to 6 decimals (float noise: 36.25000000000001 -> 36.25).
-- recommended_product_code = the next tier (tier_rank + 1) in the main product's family
-- (cheapest list price, then product_code, if several); NULL at the top tier.
-- cross_sell_product_code = the highest-lift product (cross_sell_affinity, from a product
-- the account owns) that the account does not own, in a family it does not own (another
-- tier of an owned family is an upsell, not a cross-sell); ties: confidence, pair
-- customers, product_code.
-- excluded_reason (score kept): 'low_nps' when the latest NPS in the last
-- exclude_nps_lookback_days is <= exclude_nps_max; 'recent_support_ticket' when a support
-- ticket was opened in the last exclude_support_ticket_days; both joined with ','.
with

signals as (

    select * from {{ ref('int_accounts_upsell_signals') }}

),

account_products as (

    select * from {{ ref('int_account_products_aggregated') }}

),

products as (

    select * from {{ ref('stg_billing__products') }}

),

affinity as (

    select * from {{ ref('cross_sell_affinity') }}

),

satisfaction_median as (

    select
        percentile_cont(0.5) within group (
            order by cast(latest_nps_score as double precision) / 10
        ) as median_satisfaction
    from signals
    where latest_nps_score is not null

),

raw_signals as (

    select
        signals.*,
        coalesce(signals.max_usage_rate, 0) as usage_signal,
        coalesce(
            cast(signals.latest_nps_score as double precision) / 10, satisfaction_median.median_satisfaction, 0
        ) as satisfaction_signal
    from signals
    cross join satisfaction_median

),

components as (

    select
        *,
        cast(percent_rank() over (order by contract_value_jpy) as double precision) as contract_value_component,
        cast(percent_rank() over (order by tenure_days) as double precision) as tenure_component,
        cast(percent_rank() over (order by usage_signal) as double precision) as usage_component,
        cast(percent_rank() over (order by headroom_ratio) as double precision) as headroom_component,
        cast(percent_rank() over (order by satisfaction_signal) as double precision) as satisfaction_component
    from raw_signals

),

scored as (

    select
        *,
        100 * (
            {{ var('propensity_weight_contract') }} * contract_value_component
            + {{ var('propensity_weight_tenure') }} * tenure_component
            + {{ var('propensity_weight_usage') }} * usage_component
            + {{ var('propensity_weight_headroom') }} * headroom_component
            + {{ var('propensity_weight_satisfaction') }} * satisfaction_component
        ) as score
    from components

),

next_tier_products as (

    select
        scored.account_id,
        products.product_code,
        row_number() over (
            partition by scored.account_id
            order by products.list_price_jpy nulls last, products.product_code
        ) as candidate_rank
    from scored
    inner join products
        on products.product_family = scored.main_product_family
        and products.tier_rank = scored.main_tier_rank + 1

),

ranked_pairs as (

    -- the order of preference between affinity pairs does not depend on the account
    select
        product_a,
        product_b,
        row_number() over (
            order by lift desc, confidence desc, pair_customers desc, product_b, product_a
        ) as pair_rank
    from affinity

),

portfolios as (

    -- accounts owning the same products have the same cross-sell candidate, so each distinct
    -- portfolio is worked out once (thousands of portfolios, not every account's pairs)
    select
        account_id,
        {{ sorted_listagg('product_code', "'|'") }} as portfolio
    from account_products
    group by account_id

),

portfolio_accounts as (

    select
        portfolio,
        min(account_id) as account_id
    from portfolios
    group by portfolio

),

portfolio_products as (

    select
        portfolio_accounts.portfolio,
        account_products.product_code,
        account_products.product_family
    from portfolio_accounts
    inner join account_products
        on account_products.account_id = portfolio_accounts.account_id

),

portfolio_cross_sells as (

    select
        portfolio_products.portfolio,
        min(ranked_pairs.pair_rank) as pair_rank
    from portfolio_products
    inner join ranked_pairs
        on ranked_pairs.product_a = portfolio_products.product_code
    inner join products as product_b
        on ranked_pairs.product_b = product_b.product_code
    where not exists (
            select 1 from portfolio_products as owned
            where owned.portfolio = portfolio_products.portfolio
                and owned.product_code = ranked_pairs.product_b
        )
        and not exists (
            select 1 from portfolio_products as owned
            where owned.portfolio = portfolio_products.portfolio
                and owned.product_family = product_b.product_family
        )
    group by portfolio_products.portfolio

),

cross_sell_candidates as (

    select
        portfolios.account_id,
        ranked_pairs.product_b as product_code
    from portfolios
    inner join portfolio_cross_sells
        on portfolios.portfolio = portfolio_cross_sells.portfolio
    inner join ranked_pairs
        on portfolio_cross_sells.pair_rank = ranked_pairs.pair_rank

),

exclusions as (

    select
        account_id,
        case
            when latest_nps_90d_score is not null
                and latest_nps_90d_score <= {{ var('exclude_nps_max') }}
                then 'low_nps'
        end as low_nps_reason,
        case
            when {{ kpi_in_last_days('last_support_ticket_date', var('exclude_support_ticket_days')) }}
                then 'recent_support_ticket'
        end as support_ticket_reason
    from signals

),

final as (

    select
        scored.account_id,
        {{ as_of_date() }} as as_of_date,
        -- rounded to 6 decimals so equal inputs give equal scores on every engine
        cast(round(cast(scored.score as decimal(18, 8)), 6) as double precision) as score,
        scored.contract_value_component,
        scored.tenure_component,
        scored.usage_component,
        scored.headroom_component,
        scored.satisfaction_component,
        scored.contract_value_jpy,
        scored.tenure_days,
        scored.max_usage_rate,
        cast(scored.headroom_ratio as double precision) as headroom_ratio,
        cast(scored.satisfaction_signal as double precision) as satisfaction_ratio,
        scored.latest_nps_score,
        scored.main_product_code as current_product_code,
        next_tier_products.product_code as recommended_product_code,
        cross_sell_candidates.product_code as cross_sell_product_code,
        nullif(concat_ws(',', exclusions.low_nps_reason, exclusions.support_ticket_reason), '') as excluded_reason,
        (exclusions.low_nps_reason is not null or exclusions.support_ticket_reason is not null) as is_excluded
    from scored
    left join next_tier_products
        on scored.account_id = next_tier_products.account_id
        and next_tier_products.candidate_rank = 1
    left join cross_sell_candidates
        on scored.account_id = cross_sell_candidates.account_id
    left join exclusions
        on scored.account_id = exclusions.account_id

)

select * from final
