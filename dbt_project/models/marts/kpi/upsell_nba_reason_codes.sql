-- The timing reason codes of upsell_next_best_action, with what each means in Japanese
-- and English and which actions it applies to: a lookup BI joins to explain a row's
-- `reasons` (split on ','). Edit the descriptions here; the codes are a contract.
with

reason_codes as (

    -- the alias `t` names the columns (sqlfluff's AL05 sees an unused alias)
    select * from (
        values
        (
            1, 'renewal_30_60d', '契約更新の1〜2ヶ月前',
            'A subscription renews in 30-60 days (nba_renewal_min_days..nba_renewal_max_days)',
            'upsell,cross_sell'
        ),
        (
            2, 'fiscal_year_end', '期末・予算見直し',
            'The account''s fiscal year-end is within the next 2 months (nba_fiscal_year_end_months)',
            'upsell,cross_sell'
        ),
        (
            3, 'april_onboarding', '4月の入社(新入社員・人事異動の時期)',
            'March-April onboarding season (nba_onboarding_months): new hires need PCs, monitors, software',
            'cross_sell'
        ),
        (
            4, 'usage_near_limit', '利用率が上限に近い',
            'Usage rate of an active subscription is at or above nba_usage_rate_min (0.8)',
            'upsell'
        ),
        (
            5, 'recent_inquiry', '直近の問い合わせ',
            'An inquiry (問い合わせ) in the last nba_inquiry_days (30) days',
            'upsell,cross_sell'
        )
    ) as t (sort_order, reason_code, description_ja, description_en, applies_to)  -- noqa: AL05

),

final as (

    select
        cast(reason_code as varchar) as reason_code,
        cast(sort_order as integer) as sort_order,
        cast(description_ja as varchar) as description_ja,
        cast(description_en as varchar) as description_en,
        cast(applies_to as varchar) as applies_to
    from reason_codes

)

select * from final
