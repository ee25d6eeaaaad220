{#- Incremental month-end MRR: int_account_mrr_month_ends and mrr_movements.

    Both are account x fiscal-month tables over the whole history (11.6M rows of
    mrr_movements at L scale), rebuilt every night although a night changes little: the
    month the as-of date moved in (and the rest of its fiscal year, measured at the as-of
    date too), and the accounts whose subscriptions changed. An incremental run recomputes
    exactly that:
      - every account's months from the month of the previous run's as-of date on (that run
        measured them at its as-of date; this run measures them at its own). The previous
        as-of is the table's newest measured_on (each row is measured at least(month end,
        as-of)); `mrr_recompute_from` turns it into the first such month.
      - every month of the accounts whose history changed: for the month-ends, whose
        subscription versions changed (a fingerprint of them, `_versions_fingerprint`, is
        kept on their rows and compared); for mrr_movements, whose month-end MRR before
        that month differs from what its rows say (fingerprints of both, compared). A
        restated, backdated or re-assigned subscription changes both accounts' histories,
        however old the change.
    Pre-hooks delete those rows first; the model then inserts them again (append). No
    previous as-of (first run, --full-refresh, empty table) or an as-of before it (re-running
    an old date): everything is recomputed. A change of var fiscal_year_start_month or of
    these models' SQL needs `--full-refresh`. The result equals a full refresh
    (tests/integration/test_incremental.py). -#}


{#- The month (its first day, as text) from which this run recomputes every account, or none
    when it recomputes everything. Read with run_query when the model compiles and when its
    pre-hook renders: both before the pre-hook deletes anything. -#}
{% macro mrr_recompute_from() %}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select cast(max(measured_on) as {{ dbt.type_string() }}) from {{ this }}
    {%- endset -%}
    {%- set previous = run_query(query).rows[0][0] -%}
    {%- if previous is none or previous[:10] > as_of_text() | trim -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(previous[:8] ~ '01') }}
{% endmacro %}


{#- Per account, the fingerprint of every subscription version its month-end MRR is computed
    from (`versions`: int_subscriptions_versioned or a CTE over it). -#}
{% macro mrr_versions_fingerprints(versions) %}
    select
        account_id,
        {{ set_fingerprint(['subscription_id', 'version_no', 'mrr_jpy', 'valid_from', 'valid_to',
                            'start_date', 'end_date']) }} as fingerprint
    from {{ versions }}
    group by account_id
{% endmacro %}


{#- A pre-hook's delete of the rows this run recomputes (see the top): every row from month
    `since` on (`month_column`), and the rows of the accounts `stale_accounts(since)`
    (a predicate on the table's rows) selects; every row when there is no `since`. -#}
{% macro mrr_delete_stale(month_column, stale_accounts) %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set since = mrr_recompute_from() -%}
    {%- if since is none -%}
        delete from {{ this }}
    {%- else -%}
        delete from {{ this }}
        where {{ month_column }} >= cast('{{ since }}' as date)
            or {{ stale_accounts(since) }}
    {%- endif -%}
{% endmacro %}


{#- Pre-hook of int_account_mrr_month_ends. -#}
{% macro mrr_month_ends_delete_stale() %}
    {{- return(mrr_delete_stale('month_start', mrr_month_ends_stale_accounts)) -}}
{% endmacro %}


{#- The month-end rows of accounts whose subscription versions are not the ones the rows were
    computed from (their fingerprints differ, or the account has none now). -#}
{% macro mrr_month_ends_stale_accounts(since) %}
    {%- set stored -%}
        select distinct account_id, _versions_fingerprint as fingerprint from {{ this }}
    {%- endset -%}
    account_id in ({{ accounts_with_other_fingerprints(
        mrr_versions_fingerprints(ref('int_subscriptions_versioned')), stored) }})
{% endmacro %}


{#- Accounts whose mrr_movements rows before month `since` no longer match their month-end
    MRR: the fingerprints of (month, MRR) before it, from both sides, differ (or one side has
    none). Rows of mrr_movements with mrr_end_jpy > 0 are exactly the month-end rows. -#}
{% macro mrr_movements_changed_accounts(since) %}
    {%- set month_ends -%}
        select account_id, {{ set_fingerprint(['month_start', 'mrr_jpy']) }} as fingerprint
        from {{ ref('int_account_mrr_month_ends') }}
        where month_start < cast('{{ since }}' as date)
        group by account_id
    {%- endset -%}
    {%- set movements -%}
        select account_id, {{ set_fingerprint(['month', 'mrr_end_jpy']) }} as fingerprint
        from {{ this }}
        where month < cast('{{ since }}' as date)
            and mrr_end_jpy > 0
        group by account_id
    {%- endset -%}
    {{ accounts_with_other_fingerprints(month_ends, movements) }}
{% endmacro %}


{#- Pre-hook of mrr_movements. -#}
{% macro mrr_movements_delete_stale() %}
    {{- return(mrr_delete_stale('month', mrr_movements_stale_accounts)) -}}
{% endmacro %}


{% macro mrr_movements_stale_accounts(since) %}
    account_id in ({{ mrr_movements_changed_accounts(since) }})
{% endmacro %}
