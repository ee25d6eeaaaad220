{#- Incremental CPM runs (int_cpm_segment_runs): every customer's segment at every month-end,
    computed from all its purchases dated up to the last month-end on or before as-of (8.0M
    purchases at L scale, grouped and windowed again every night).

    Between two nights in one month the last month-end does not move, so an account's runs
    change only when its purchases up to that month-end change: a late, restated, voided or
    re-assigned invoice, however old. Each row keeps a fingerprint of the purchases its
    account's runs were computed from (`_purchases_fingerprint`: their dates and amounts up to
    the last month-end); the pre-hook deletes the runs of every account whose fingerprint no
    longer matches (or that has no such purchases any more), and the model computes the
    accounts that then have no runs (changed or new). The purchases of the month still running
    change nothing until it ends.

    Everything is recomputed when the last month-end moved (the first night of a month: every
    account's last run then ends a month later, and may lapse), when the rules the rows were
    classified with (`_rules`: vars cpm_amount_threshold_jpy, cpm_tenure_days, cpm_lapse_days)
    are not this run's, on a first run, a full refresh or an empty table. A change of this
    model's SQL needs `--full-refresh`. The result equals a full refresh
    (tests/integration/test_incremental.py). -#}


{#- The classification rules a row was computed with, as text (the vars the segment macros read). -#}
{% macro cpm_runs_rules() -%}
    cast('{{ var("cpm_amount_threshold_jpy") }}|{{ var("cpm_tenure_days") }}|{{ var("cpm_lapse_days") }}'
        as {{ dbt.type_string() }})
{%- endmacro %}


{#- Whether this run recomputes every account (see the top). Read with run_query when the model
    compiles and when its pre-hook renders, both before the pre-hook deletes anything. -#}
{% macro cpm_runs_recompute_all() %}
    {%- if not execute or not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(
            max(last_month_end) = {{ last_month_end_as_of() }}
            and min(_rules) = {{ cpm_runs_rules() }}
            and max(_rules) = {{ cpm_runs_rules() }},
            false
        )
        from {{ this }}
    {%- endset -%}
    {{ return(not run_query(query).rows[0][0]) }}
{% endmacro %}


{#- Pre-hook: delete the runs this run recomputes (see the top). -#}
{% macro cpm_runs_delete_stale() %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if cpm_runs_recompute_all() -%}
        delete from {{ this }}
    {%- else -%}
        delete from {{ this }}
        where account_id in ({{ accounts_with_changed_purchases(last_month_end_as_of()) }})
    {%- endif -%}
{% endmacro %}
