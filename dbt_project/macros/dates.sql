{#- The as-of date as a SQL date literal. -#}
{% macro as_of_date() -%}
    cast('{{ var("as_of") }}' as date)
{%- endmacro %}

{#- The business-local calendar date of a stored instant (TIMESTAMPTZ, UTC). A stored
    2025-03-31T16:00Z is 2025-04-01 in Asia/Tokyo. Portable: DuckDB and Postgres. -#}
{% macro local_date(ts) -%}
    cast(({{ ts }}) at time zone '{{ var("business_tz") }}' as date)
{%- endmacro %}

{#- Fiscal year of a date: FY2025 = April 2025 - March 2026 with the default start month. -#}
{% macro fiscal_year(d) -%}
    (extract(year from {{ d }}) - case when extract(month from {{ d }}) < {{ var('fiscal_year_start_month') }} then 1 else 0 end)
{%- endmacro %}

{#- Whole days between two dates (b - a), as a bigint on every adapter (Postgres' date
    subtraction gives an integer, DuckDB's date_diff a bigint). -#}
{% macro days_between(a, b) -%}
    cast({{ dbt.datediff(a, b, 'day') }} as bigint)
{%- endmacro %}
