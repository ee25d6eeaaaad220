{#- Incremental purchases (int_purchases_aggregated): one row per paid invoice, from the
    invoice lines of stg_billing__invoices (10.1M at L scale, grouped again every night
    although a night changes a few thousand invoices).

    A run recomputes every invoice with a line changed since the last run, by the rules of
    the incremental staging (macros/incremental.sql): a line loaded after the newest
    `_loaded_at` of the table's rows, or whose effective date (the later of invoice_date and
    the local date of updated_at) falls in the lookback before the table's newest. The
    pre-hook deletes those invoices first; an invoice left with no paid line (voided,
    refunded) is not inserted again. Everything is recomputed when staging was just built
    from scratch (all its rows are its first batch: a first run, a full refresh, a rebuild)
    or the as-of date went backwards (the table holds later dates). The result equals a full
    refresh (tests/integration/test_incremental.py). One case is left to the operator: a
    build that rebuilt the invoice lines (as-of backwards) but stopped before this model
    (a failed test between them) leaves it built from the lines before that rebuild; the
    next nights only look at lines changed since. Re-run such a night before any later
    date, or run `--full-refresh`. -#}


{#- The table's date watermark (an aggregate over its rows), as the staging of the invoice
    lines defines it: the later of invoice_date and the local date of updated_at. -#}
{% macro purchases_date_watermark() -%}
    greatest(max(purchase_date), coalesce({{ local_date('max(_updated_at)') }}, max(purchase_date)))
{%- endmacro %}


{#- The invoice lines changed since the last run (a predicate on stg_billing__invoices). -#}
{% macro purchases_changed_lines() -%}
    {{ incremental_changed_rows(purchases_date_watermark(), effective_date_sql='invoice_date',
                                effective_ts_sql='updated_at') }}
{%- endmacro %}


{#- Whether this run recomputes every invoice (see the top). -#}
{% macro purchases_recompute_all() %}
    {%- if not execute or not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if incremental_needs_rebuild(purchases_date_watermark()) -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(max(_batch_no), 1) from {{ ref('stg_billing__invoices') }}
    {%- endset -%}
    {{ return(run_query(query).rows[0][0] | int <= 1) }}
{% endmacro %}


{#- Pre-hook: delete the invoices this run recomputes. -#}
{% macro purchases_delete_changed() %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if purchases_recompute_all() -%}
        delete from {{ this }}
    {%- else -%}
        delete from {{ this }}
        where invoice_id in (
            select invoice_id from {{ ref('stg_billing__invoices') }}
            where {{ purchases_changed_lines() }}
        )
    {%- endif -%}
{% endmacro %}


{#- Per account, an order-independent fingerprint of its purchases' dates and amounts
    (`purchases`: a relation or CTE with account_id, purchase_date, purchase_amount_jpy), as
    the models computed from purchases per account keep it on their rows
    (int_cpm_segment_runs, int_customer_purchase_summary). -#}
{% macro account_purchases_fingerprints(purchases) %}
    select
        account_id,
        {{ set_fingerprint(['purchase_date', 'purchase_amount_jpy']) }} as fingerprint
    from {{ purchases }}
    group by account_id
{% endmacro %}


{#- The accounts whose purchases dated up to `up_to` (a SQL date) no longer have the
    fingerprint their rows in {{ this }} keep (`_purchases_fingerprint`), or that have rows
    and no such purchases, or such purchases and no rows: a select of account_id. -#}
{% macro accounts_with_changed_purchases(up_to) %}
    {%- set purchases -%}
        (
            select account_id, purchase_date, purchase_amount_jpy
            from {{ ref('int_purchases_aggregated') }}
            where purchase_date <= {{ up_to }}
        ) as purchases
    {%- endset -%}
    {%- set stored -%}
        select distinct account_id, _purchases_fingerprint as fingerprint from {{ this }}
    {%- endset -%}
    {{ accounts_with_other_fingerprints(account_purchases_fingerprints(purchases), stored) }}
{% endmacro %}
