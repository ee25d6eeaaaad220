{#- Incremental (macros/purchases_incremental.sql): a run recomputes the invoices with a line
    changed since the last run; the pre-hook deletes them first. -#}
{%- set recompute_all = purchases_recompute_all() -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ purchases_delete_changed() }}"]
    )
}}
-- One row per purchase: a paid invoice (distinct invoice_id), valued at the sum of its
-- paid lines, dated by invoice_date. Only `paid` lines count as revenue; void, open and
-- refunded lines are excluded, and invoices dated after the as-of date never reach here
-- (staging cuts them).
with

invoice_lines as (

    select * from {{ ref('stg_billing__invoices') }}

),

{% if not recompute_all -%}
changed_invoices as (

    -- invoices with a line changed since the last run (all their lines are read again)
    select distinct invoice_id from invoice_lines
    where {{ purchases_changed_lines() }}

),

{% endif -%}
paid_lines as (

    select * from invoice_lines
    where status = 'paid'
    {%- if not recompute_all %}
        and invoice_id in (select invoice_id from changed_invoices)
    {%- endif %}

),

purchases as (

    select
        invoice_id,
        min(account_id) as account_id,
        min(invoice_date) as purchase_date,
        sum(amount_jpy) as purchase_amount_jpy,
        count(*) as paid_lines,
        -- what the next run's watermarks are read from (see the top of this file)
        max(_loaded_at) as _loaded_at,
        max(updated_at) as _updated_at
    from paid_lines
    group by invoice_id

),

final as (

    select
        *,
        -- the run that wrote the row: scopes the nightly key tests (macros/incremental.sql)
        {{ incremental_batch_no() }} as _batch_no
    from purchases

)

select * from final
