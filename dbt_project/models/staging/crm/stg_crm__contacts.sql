{#- Materialised incrementally, like the email events and invoice lines (README,
    "Incremental staging"): two models and two data tests read it.
    Each run re-ranks only keys with changed raw rows (loaded since the last run, or dated
    in the lookback); the result equals a full refresh (macros/incremental.sql,
    tests/integration/test_incremental.py). -#}
{%- set date_watermark = local_date('max(updated_at)') -%}
{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ incremental_rebuild_hook(local_date('max(updated_at)')) }}"
    )
}}

with

source as not materialized (

    select * from {{ source('crm', 'contacts') }}

),

as_of_cut as not materialized (

    -- only what was known on the as-of date: re-running an old date reproduces it
    select * from source
    where ({{ on_or_before_as_of('updated_at') }})

),

{% if is_incremental() -%}
changed_keys as (

    -- incremental runs: keys with a row loaded since the last run or dated in the lookback
    select distinct contact_id from as_of_cut
    where {{ incremental_changed_rows(date_watermark, effective_ts_sql='updated_at') }}

),

{% endif -%}
ranked as (

    -- re-exports: the newest version of each record wins (every version of a changed key)
    select
        *,
        row_number() over (
            partition by contact_id
            order by updated_at desc nulls last, _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from as_of_cut
    {% if is_incremental() -%}
    where contact_id in (select contact_id from changed_keys)
    {%- endif %}

),

final as (

    select
        contact_id,
        account_id,
        {{ email_hash('email') }} as email_hash,
        department,
        title,
        is_decision_maker,
        created_at,
        updated_at,
        _load_id,
        _loaded_at,
        -- the run that wrote the row: scopes the nightly key tests (macros/incremental.sql)
        {{ incremental_batch_no() }} as _batch_no
    from ranked
    where version_rank = 1

)

select * from final
