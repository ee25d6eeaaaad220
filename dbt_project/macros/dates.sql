{#- The as-of date (YYYY-MM-DD) this build computes: the var `as_of` when given (`--vars`,
    a unit test's overrides), else the environment's UPSELL_AS_OF (the nightly job and the
    Airflow DAG set that). Not a `--vars` value every night: dbt re-parses the whole project
    whenever its vars change (≈ 3 s of every nightly build), whereas an environment variable
    read only while executing is invisible to parsing, so the night's build parses partially.
    While parsing, the date is not needed (the SQL is rendered again to run it). -#}
{% macro as_of_text() -%}
    {%- set given = var('as_of', '') -%}
    {%- if given -%}
        {{- given -}}
    {%- elif not execute -%}
        {{- '1970-01-01' -}}
    {%- elif env_var('UPSELL_AS_OF', '') -%}
        {{- env_var('UPSELL_AS_OF') -}}
    {%- else -%}
        {{- exceptions.raise_compiler_error("no as-of date: set UPSELL_AS_OF=YYYY-MM-DD or --vars '{as_of: YYYY-MM-DD}'") -}}
    {%- endif -%}
{%- endmacro %}

{#- The as-of date as a SQL date literal. -#}
{% macro as_of_date() -%}
    cast('{{ as_of_text() }}' as date)
{%- endmacro %}

{#- The first instant after a business-local calendar day (YYYY-MM-DD text): the next
    local midnight, as a TIMESTAMPTZ literal in UTC (2026-11-01 in Asia/Tokyo ends at
    2026-11-01T15:00:00Z). Computed while rendering (dbt's pytz, the zone's daylight-saving
    rules included), so a filter on a stored instant compares timestamps — which DuckDB
    pushes into the scan and prunes by row group — instead of converting every row's
    instant to a local date. Portable: an ISO 8601 literal with an offset casts the same
    on DuckDB and Postgres. -#}
{% macro local_day_end(day_text) -%}
    {%- set next_day = modules.datetime.date.fromisoformat(day_text | trim) + modules.datetime.timedelta(days=1) -%}
    {%- set midnight = modules.datetime.datetime(next_day.year, next_day.month, next_day.day) -%}
    {%- set instant = modules.pytz.timezone(var("business_tz")).localize(midnight).astimezone(modules.pytz.utc) -%}
    cast('{{ instant.isoformat() }}' as timestamp with time zone)
{%- endmacro %}

{#- SQL predicate: the stored instant falls on or before the as-of date in business time,
    i.e. {{ local_date(ts) }} <= as-of, written as an instant comparison (see
    local_day_end: ~10x cheaper on millions of rows). -#}
{% macro on_or_before_as_of(ts) -%}
    ({{ ts }}) < {{ local_day_end(as_of_text()) }}
{%- endmacro %}

{#- The first instant of a business-local calendar day given as a DATE column or
    expression (known only when the query runs, unlike local_day_end's rendered literal):
    its local midnight as a TIMESTAMPTZ, computed in SQL. `ts >= local_day_start(d)` is
    `local_date(ts) >= d` without converting every row's instant (8–11 % of
    int_email_messages_summarised at M and L, docs/benchmarks.md, tenth round). Portable:
    a TIMESTAMP AT TIME ZONE is the instant of that local time on DuckDB and Postgres. -#}
{% macro local_day_start(d) -%}
    (cast({{ d }} as timestamp) at time zone '{{ var("business_tz") }}')
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

{#- The last month-end on or before the as-of date, as a SQL date literal computed while
    rendering: month-end figures exist only for months that have ended (2026-03-31 as of
    2026-03-31, 2026-02-28 as of 2026-03-15). -#}
{% macro last_month_end_as_of() -%}
    {%- set one_day = modules.datetime.timedelta(days=1) -%}
    {%- set next_day = modules.datetime.date.fromisoformat(as_of_text()) + one_day -%}
    cast('{{ (next_day.replace(day=1) - one_day).isoformat() }}' as date)
{%- endmacro %}

{#- Whole days between two dates (b - a), as a bigint on every adapter (Postgres' date
    subtraction gives an integer, DuckDB's date_diff a bigint). -#}
{% macro days_between(a, b) -%}
    cast({{ dbt.datediff(a, b, 'day') }} as bigint)
{%- endmacro %}
