{#- Customer-mart helpers (RFM, CPM, LTV, engagement). Portable: DuckDB and Postgres. -#}

{#- True when date `d` lies in "the N days up to" date `end_date`: end_date - N < d <= end_date.
    A date exactly N days before end_date is outside (the spec's window rule). -#}
{% macro customer_in_window(d, end_date, n_days) -%}
    ({{ days_between(d, end_date) }} >= 0 and {{ days_between(d, end_date) }} < {{ n_days }})
{%- endmacro %}

{#- RFM quintile score 1-5 of `x` (larger is better) over the whole result set:
    least(5, 1 + floor(5 * percent_rank(x))). Ties share a rank, hence a score (not NTILE).
    percent_rank = (rank - 1) / (n - 1), 0 when n = 1; it is evaluated here as the exact
    quotient 5 * (rank - 1) / (n - 1) so that float rounding of percent_rank can never push
    an account that sits exactly on a quintile boundary into the lower score. -#}
{% macro customer_quintile_score(x) -%}
    least(5, 1 + cast(floor(
        (5 * (rank() over (order by {{ x }}) - 1))
        / cast(greatest(count(*) over () - 1, 1) as double precision)
    ) as integer))
{%- endmacro %}

{#- CPM base segment (before the lapse suffix). -#}
{% macro customer_cpm_base_segment(purchase_count, total_amount_jpy, tenure_days) -%}
    case
        when {{ purchase_count }} = 1 then 'first_time'
        when {{ total_amount_jpy }} >= {{ var('cpm_amount_threshold_jpy') }} then
            case when {{ tenure_days }} >= {{ var('cpm_tenure_days') }} then 'loyal' else 'trendy' end
        else
            case when {{ tenure_days }} >= {{ var('cpm_tenure_days') }} then 'steady' else 'early_repeat' end
    end
{%- endmacro %}

{#- Lapsed: no purchase in the cpm_lapse_days days up to the reference date. -#}
{% macro customer_cpm_is_lapsed(days_since_last_purchase) -%}
    ({{ days_since_last_purchase }} >= {{ var('cpm_lapse_days') }})
{%- endmacro %}

{#- The 10 CPM segment codes: base, or base || '_lapsed'. -#}
{% macro customer_cpm_segment(purchase_count, total_amount_jpy, tenure_days, days_since_last_purchase) -%}
    ({{ customer_cpm_base_segment(purchase_count, total_amount_jpy, tenure_days) }}
        || case when {{ customer_cpm_is_lapsed(days_since_last_purchase) }} then '_lapsed' else '' end)
{%- endmacro %}

{#- Japanese label of a CPM segment code (spec labels). -#}
{% macro customer_cpm_segment_ja(segment) -%}
    case {{ segment }}
        when 'first_time' then '初回客'
        when 'early_repeat' then 'よちよち客'
        when 'steady' then 'コツコツ客'
        when 'trendy' then '流行客'
        when 'loyal' then '優良客'
        when 'first_time_lapsed' then '初回離脱客'
        when 'early_repeat_lapsed' then 'よちよち離脱客'
        when 'steady_lapsed' then 'コツコツ離脱客'
        when 'trendy_lapsed' then '流行離脱客'
        when 'loyal_lapsed' then '優良離脱客'
    end
{%- endmacro %}

{#- 'YYYY-MM' of a date. -#}
{% macro customer_year_month(d) -%}
    (cast(cast(extract(year from {{ d }}) as integer) as {{ dbt.type_string() }})
        || '-' || lpad(cast(cast(extract(month from {{ d }}) as integer) as {{ dbt.type_string() }}), 2, '0'))
{%- endmacro %}
