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


{#- The rewrite log of mrr_movements: which of its rows each build rewrote, so that what
    reads the mart after a night can read those rows instead of all of them — the nightly
    data tests (tests_where.sql: `__rewritten_from__`, `__rewritten_accounts__`) and publish,
    which copies only them into the serving file (upsell.publish). One header row per build
    (`account_id` null): `batch_no` (1, 2, ... per warehouse), a random `batch_id` (publish
    checks that the served copy came from this warehouse's log), and `rewritten_from`: every
    row with `month >= rewritten_from` was rewritten, null = every row (first build,
    --full-refresh, as-of going backwards). Then one row per account whose rows were all
    rewritten (the stale accounts). The last `mrr_rewrites_kept_batches` builds are kept. -#}
{% macro mrr_rewrites_relation() %}
    {{ return(api.Relation.create(database=target.database, schema='audit', identifier='mrr_movements_rewrites')) }}
{% endmacro %}


{#- Pre-hook of mrr_movements, before the delete: log what this build rewrites (above). -#}
{% macro mrr_movements_log_rewrite() %}
    {%- set log_table = mrr_rewrites_relation() -%}
    {%- set since = mrr_recompute_from() -%}
    create schema if not exists {{ log_table.schema }};
    create table if not exists {{ log_table }} (
        batch_no integer not null,
        batch_id {{ dbt.type_string() }} not null,
        rewritten_from date,
        account_id {{ dbt.type_string() }}
    );
    insert into {{ log_table }} (batch_no, batch_id, rewritten_from, account_id)
    with batch as (
        select
            coalesce(max(batch_no), 0) + 1 as batch_no,
            cast(gen_random_uuid() as {{ dbt.type_string() }}) as batch_id
        from {{ log_table }}
    )
    select
        batch.batch_no,
        batch.batch_id,
        {{ "cast('" ~ since ~ "' as date)" if since is not none else "cast(null as date)" }},
        cast(null as {{ dbt.type_string() }})
    from batch
    {%- if since is not none %}
    union all
    select batch.batch_no, batch.batch_id, cast(null as date), stale.account_id
    from batch
    cross join ({{ mrr_movements_changed_accounts(since) }}) as stale
    {%- endif %};
    delete from {{ log_table }}
    where batch_no <= (select max(batch_no) from {{ log_table }}) - {{ var('mrr_rewrites_kept_batches') }}
{% endmacro %}


{#- Pre-hook of mrr_movements, after the log: delete what this build rewrites. -#}
{% macro mrr_movements_delete_stale() %}
    {{- return(mrr_delete_stale('month', mrr_movements_stale_accounts)) -}}
{% endmacro %}


{#- The stale accounts as the log hook recorded them (computing them again after the log's
    insert would give the same set; reading it keeps the two hooks from disagreeing). -#}
{% macro mrr_movements_stale_accounts(since) %}
    {%- set log_table = mrr_rewrites_relation() -%}
    account_id in (
        select account_id from {{ log_table }}
        where batch_no = (select max(batch_no) from {{ log_table }})
            and account_id is not null
    )
{% endmacro %}


{#- What the last logged build of mrr_movements rewrote (mrr_rewrites_relation): {'batch_no':
    n, 'rewritten_from': 'YYYY-MM-DD', 'accounts': a query of the accounts it rewrote whole},
    or none when every row is to be read: no log yet (also before any build, so that `dbt
    compile` works on a new warehouse), or the last build rewrote every row. -#}
{% macro mrr_last_rewrite() %}
    {%- set log_table = mrr_rewrites_relation() -%}
    {%- if not execute or load_relation(log_table) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select batch_no, cast(rewritten_from as {{ dbt.type_string() }})
        from {{ log_table }}
        where account_id is null
            and batch_no = (select max(batch_no) from {{ log_table }})
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length == 0 or rows[0][1] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'batch_no': rows[0][0] | int, 'rewritten_from': rows[0][1][:10],
               'accounts': 'select account_id from ' ~ log_table ~ ' where batch_no = ' ~ (rows[0][0] | int)
                           ~ ' and account_id is not null'}) }}
{% endmacro %}
