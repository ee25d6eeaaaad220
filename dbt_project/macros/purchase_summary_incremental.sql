{#- Incremental purchase summary (int_customer_purchase_summary): one row per customer, from
    all its purchases (8M at L scale, grouped again every night for the few accounts a
    night changes).

    A row depends on the as-of date in three ways only:
      - the purchases it counts: those dated up to as-of. Each row keeps a fingerprint of
        them (`_purchases_fingerprint`: their dates and amounts), and an account whose
        purchases up to the new as-of differ from it is recomputed (a new, late, restated,
        voided or re-assigned purchase, however old, or one dated between the two as-of dates);
      - its windows ("the N days up to as-of" for N = rfm_lookback_days, 365 and 730): when
        the as-of moves from P to D, a purchase day leaves the N-day window when it lies in
        (P - N, D - N]; the accounts with such a purchase day are recomputed (entering a
        window means being dated after P: the fingerprint has caught those);
      - its age clv_t_days (first purchase to as-of) and as_of_date itself: a post-hook sets
        them on the rows not recomputed.
    The pre-hook deletes the rows to recompute, and the model computes the accounts that
    then have no row. Everything is recomputed on a first run, a full refresh, an empty
    table, an as-of before the previous one, or another rfm_lookback_days (`_rules`). A
    change of this model's SQL needs `--full-refresh`. The result equals a full refresh
    (tests/integration/test_incremental.py). -#}


{#- The window lengths (days) the rows count purchases in. -#}
{% macro purchase_summary_windows() %}
    {{ return([var('rfm_lookback_days') | int, 365, 730]) }}
{% endmacro %}


{% macro purchase_summary_rules() -%}
    cast('{{ var("rfm_lookback_days") }}' as {{ dbt.type_string() }})
{%- endmacro %}


{#- The previous run's as-of date (ISO text), or none when this run recomputes every account
    (see the top). Read with run_query when the model compiles and when its pre-hook renders,
    both before the pre-hook deletes anything. -#}
{% macro purchase_summary_previous_as_of() %}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select
            cast(min(as_of_date) as {{ dbt.type_string() }}),
            cast(max(as_of_date) as {{ dbt.type_string() }}),
            min(_rules),
            max(_rules)
        from {{ this }}
    {%- endset -%}
    {%- set first, last, min_rules, max_rules = run_query(query).rows[0] -%}
    {%- set rules = var('rfm_lookback_days') | string -%}
    {%- if first is none or first != last or min_rules != rules or max_rules != rules
          or first[:10] > as_of_text() | trim -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(first[:10]) }}
{% endmacro %}


{#- Pre-hook: delete the rows this run recomputes (see the top). -#}
{% macro purchase_summary_delete_stale() %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set previous = purchase_summary_previous_as_of() -%}
    {%- if previous is none -%}
        delete from {{ this }}
    {%- else -%}
        {%- set day = modules.datetime.timedelta(days=1) -%}
        {%- set previous_date = modules.datetime.date.fromisoformat(previous) -%}
        {%- set as_of = modules.datetime.date.fromisoformat(as_of_text() | trim) -%}
        delete from {{ this }}
        where account_id in (
            -- purchases up to as-of changed (or the account has none now)
            {{ accounts_with_changed_purchases(as_of_date()) }}

            union

            -- a purchase day left one of the windows
            select account_id
            from {{ ref('int_purchases_aggregated') }}
            where
            {%- for n in purchase_summary_windows() %}
                {% if not loop.first %}or {% endif -%}
                (purchase_date > cast('{{ (previous_date - day * n).isoformat() }}' as date)
                    and purchase_date <= cast('{{ (as_of - day * n).isoformat() }}' as date))
            {%- endfor %}
        )
    {%- endif -%}
{% endmacro %}


{#- Post-hook: the as-of date and the age of the rows kept from the previous run. -#}
{% macro purchase_summary_move_as_of() %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    update {{ this }}
    set
        as_of_date = {{ as_of_date() }},
        clv_t_days = {{ days_between('first_purchase_date', as_of_date()) }}
    where as_of_date <> {{ as_of_date() }}
{% endmacro %}
