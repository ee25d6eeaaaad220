-- RFM per customer (account with at least one purchase by the as-of date).
-- Scores are quintiles over all customers with ties sharing a score:
-- score = least(5, 1 + floor(5 * percent_rank(x))), larger x better; R ranks -recency_days.
-- The segment comes from the editable seed rfm_segments (one row per cell).
with

summary as (

    select * from {{ ref('int_customer_purchase_summary') }}

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

base as (

    select
        account_id,
        as_of_date,
        last_purchase_date,
        {{ days_between('last_purchase_date', 'as_of_date') }} as recency_days,
        purchases_lookback as frequency,
        -- a sum of decimal(18, 2) widens to decimal(38, 2) on DuckDB: fix the money type
        cast(revenue_lookback_jpy as decimal(18, 2)) as monetary_jpy
    from summary

),

scored as (

    select
        *,
        {{ customer_quintile_score('-recency_days') }} as r_score,
        {{ customer_quintile_score('frequency') }} as f_score,
        {{ customer_quintile_score('monetary_jpy') }} as m_score,
        percent_rank() over (order by -recency_days) as r_percent_rank,
        percent_rank() over (order by frequency) as f_percent_rank,
        percent_rank() over (order by monetary_jpy) as m_percent_rank
    from base

),

celled as (

    select
        *,
        cast(r_score as {{ dbt.type_string() }})
        || cast(f_score as {{ dbt.type_string() }})
        || cast(m_score as {{ dbt.type_string() }}) as rfm_cell
    from scored

),

final as (

    select
        c.account_id,
        c.as_of_date,
        c.last_purchase_date,
        c.recency_days,
        c.frequency,
        c.monetary_jpy,
        c.r_score,
        c.f_score,
        c.m_score,
        c.rfm_cell,
        s.rfm_segment,
        s.segment_ja as rfm_segment_ja,
        c.r_percent_rank,
        c.f_percent_rank,
        c.m_percent_rank
    from celled as c
    left join segments as s
        on c.rfm_cell = cast(s.rfm_cell as {{ dbt.type_string() }})

)

select * from final
