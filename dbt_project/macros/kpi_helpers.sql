{#- Helpers for the kpi area (mrr_movements, kpi_sales_marketing, affinity, propensity,
    next-best-action). Portable: DuckDB and Postgres. -#}

{#- A date n days after d (n may be negative or a column), as a DATE. -#}
{% macro kpi_add_days(d, n) -%}
    cast({{ dbt.dateadd('day', n, d) }} as date)
{%- endmacro %}

{#- A date n months after d (end-of-month clamped: Oct 31 + 1 month = Nov 30), as a DATE. -#}
{% macro kpi_add_months(d, n) -%}
    cast({{ dbt.dateadd('month', n, d) }} as date)
{%- endmacro %}

{#- First day of d's calendar month, as a DATE. -#}
{% macro kpi_month_start(d) -%}
    cast({{ dbt.date_trunc('month', d) }} as date)
{%- endmacro %}

{#- num / den as a double; NULL when den is 0 or NULL (never integer division). -#}
{% macro kpi_ratio(num, den) -%}
    (cast({{ num }} as double precision) / nullif(cast({{ den }} as double precision), 0))
{%- endmacro %}

{#- A yen amount in the marts' money type. -#}
{% macro kpi_jpy(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{#- True when date d lies in "the N days up to" as-of: as_of - N days < d <= as_of
    (the spec's lookback convention: a date exactly N days before as-of is outside). -#}
{% macro kpi_in_last_days(d, n_days) -%}
    ({{ d }} > {{ kpi_add_days(as_of_date(), '-' ~ n_days) }} and {{ d }} <= {{ as_of_date() }})
{%- endmacro %}
