-- Subscription revenue movement per account and fiscal month, from billing.
-- mrr_start_jpy = MRR at the previous month-end, mrr_end_jpy = MRR at this month-end (the
-- as-of date for the month in progress); see int_account_mrr_month_ends for the rule.
-- movement:
--   new           start = 0, end > 0, and the account never had MRR at an earlier month-end
--   reactivation  start = 0, end > 0, and the account had MRR at some earlier month-end
--   expansion     start > 0, end > start
--   contraction   start > 0, 0 < end < start
--   churn         start > 0, end = 0
--   flat          start = end > 0
-- Rows exist from an account's first month with MRR on, only where start > 0 or end > 0.
{#- Incremental (macros/mrr_incremental.sql): a run recomputes every account's months from
    the month of the previous run's as-of date on (`since`), and every month of the accounts
    whose month-end MRR before it changed; the pre-hook deletes exactly those rows first. The
    kept accounts' windows start one month before `since` (the previous month-end is the
    start MRR) and carry whether the account had MRR before that. The first pre-hook logs
    what the run rewrites (audit.mrr_movements_rewrites), for the nightly tests and publish. -#}
{%- set since = mrr_recompute_from() %}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ mrr_movements_log_rewrite() }}", "{{ mrr_movements_delete_stale() }}"]
    )
}}

with

account_month_ends as (

    select * from {{ ref('int_account_mrr_month_ends') }}

),

fiscal_periods as (

    select * from {{ ref('int_fiscal_periods') }}

),

months as (

    select
        period_start as month_start,
        period_end as month_end,
        fiscal_year,
        fiscal_quarter,
        is_partial
    from fiscal_periods
    where period_type = 'fiscal_month'

),

account_first_months as (

    select
        account_id,
        {% if since is not none -%}
        max(
            case
                when month_start < {{ kpi_add_months("cast('" ~ since ~ "' as date)", -1) }} and mrr_jpy > 0
                    then 1
                else 0
            end
        ) as had_mrr_before_previous_month,
        {% endif -%}
        min(month_start) as first_month_start
    from account_month_ends
    group by account_id

),

{% if since is not none -%}
kept_accounts as (

    -- accounts whose rows before `since` survived the pre-hook: only their months from
    -- `since` on are recomputed
    select distinct account_id from {{ this }}
    where month < cast('{{ since }}' as date)

),

{% endif -%}
account_grid_starts as (

    -- the first month each account's windows below see, and whether it had MRR before it
    select
        account_first_months.account_id,
        {% if since is not none -%}
        kept_accounts.account_id is not null as is_kept,
        case
            when kept_accounts.account_id is not null
                then {{ kpi_add_months("cast('" ~ since ~ "' as date)", -1) }}
            else account_first_months.first_month_start
        end as grid_start,
        case
            when kept_accounts.account_id is not null
                then account_first_months.had_mrr_before_previous_month
            else 0
        end as had_mrr_before_grid
        {% else -%}
        false as is_kept,
        account_first_months.first_month_start as grid_start,
        0 as had_mrr_before_grid
        {% endif -%}
    from account_first_months
    {% if since is not none -%}
    left join kept_accounts
        on account_first_months.account_id = kept_accounts.account_id
    {% endif -%}

),

account_month_grid as (

    select
        account_grid_starts.account_id,
        account_grid_starts.is_kept,
        account_grid_starts.had_mrr_before_grid,
        months.month_start,
        months.month_end,
        months.fiscal_year,
        months.fiscal_quarter,
        months.is_partial
    from account_grid_starts
    inner join months
        on months.month_start >= account_grid_starts.grid_start

),

with_month_end_mrr as (

    select
        account_month_grid.*,
        coalesce(account_month_ends.mrr_jpy, 0) as mrr_end_jpy
    from account_month_grid
    left join account_month_ends
        on account_month_grid.account_id = account_month_ends.account_id
        and account_month_grid.month_start = account_month_ends.month_start

),

with_start_mrr as (

    select
        *,
        coalesce(lag(mrr_end_jpy) over (partition by account_id order by month_start), 0) as mrr_start_jpy,
        greatest(coalesce(max(case when mrr_end_jpy > 0 then 1 else 0 end) over (
            partition by account_id order by month_start
            rows between unbounded preceding and 1 preceding
        ), 0), had_mrr_before_grid) as had_mrr_before
    from with_month_end_mrr

),

classified as (

    select
        *,
        case
            when mrr_start_jpy = 0 and mrr_end_jpy > 0 and had_mrr_before = 1 then 'reactivation'
            when mrr_start_jpy = 0 and mrr_end_jpy > 0 then 'new'
            when mrr_start_jpy > 0 and mrr_end_jpy = 0 then 'churn'
            when mrr_end_jpy > mrr_start_jpy then 'expansion'
            when mrr_end_jpy < mrr_start_jpy then 'contraction'
            else 'flat'
        end as movement
    from with_start_mrr
    where
        (mrr_start_jpy > 0 or mrr_end_jpy > 0)
    {% if since is not none %}
        -- a kept account's month before `since` only fed the windows
        and (not is_kept or month_start >= cast('{{ since }}' as date))
    {% endif %}

),

final as (

    select
        account_id,
        month_start as month,
        month_end,
        case when month_end > {{ as_of_date() }} then {{ as_of_date() }} else month_end end as measured_on,
        fiscal_year,
        fiscal_quarter,
        {{ kpi_jpy('mrr_start_jpy') }} as mrr_start_jpy,
        {{ kpi_jpy('mrr_end_jpy') }} as mrr_end_jpy,
        -- the contract's type: an incremental run on Postgres compares the new rows' types
        -- with the table's (a CASE of literals is text there, the column character varying)
        cast(movement as varchar) as movement,
        {{ kpi_jpy('mrr_end_jpy - mrr_start_jpy') }} as delta_jpy,
        is_partial
    from classified

)

select * from final
