{#- Materialised incrementally, like the email events and invoice lines (README,
    "Incremental staging"): four models and six data tests read it. Each run re-ranks only
    keys with changed raw rows (loaded since the last run, or dated in the lookback); the
    result equals a full refresh (macros/incremental.sql, tests/integration/test_incremental.py).
    The as-of cut looks at updated_at and created_at: the effective instant is the later. -#}
{%- set date_watermark = local_date('max(greatest(updated_at, created_at))') -%}
{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ incremental_rebuild_hook(local_date('max(greatest(updated_at, created_at))')) }}"
    )
}}

with

source as not materialized (

    select * from {{ source('crm', 'deals') }}

),

as_of_cut as not materialized (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where ({{ on_or_before_as_of('updated_at') }})
        and {{ on_or_before_as_of('created_at') }}

),

{% if is_incremental() -%}
changed_keys as (

    -- incremental runs: keys with a row loaded since the last run or dated in the lookback
    select distinct deal_id from as_of_cut
    where {{ incremental_changed_rows(date_watermark, effective_ts_sql='greatest(updated_at, created_at)') }}

),

{% endif -%}
ranked as (

    -- re-exports: the newest version of each record wins (every version of a changed key)
    select
        *,
        row_number() over (
            partition by deal_id
            order by updated_at desc nulls last, _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut
    {% if is_incremental() -%}
    where deal_id in (select deal_id from changed_keys)
    {%- endif %}

),

final as (

    select
        deal_id,
        account_id,
        deal_type,
        stage,
        amount_jpy,
        product_code,
        lead_id,
        campaign_id,
        owner,
        created_at,
        closed_at,
        updated_at,
        _load_id,
        _loaded_at,
        -- the run that wrote the row: scopes the nightly key tests (macros/incremental.sql)
        {{ incremental_batch_no() }} as _batch_no
    from ranked
    where version_rank = 1

)

select * from final
