{{ config(materialized='table') }}
-- Subscription history: one row per version of a subscription (the billing export is a
-- change log: start, seat expansion, tier upgrade, renewal, cancellation, each a new row
-- with the same subscription_id and a newer updated_at). stg_billing__subscriptions keeps
-- only the newest version, which is right for "the contract now" but hides every past
-- seat expansion or upgrade - and MRR movements are exactly those. So this model reads the
-- raw change log (with the same as-of cut as staging) and dates each version:
--   valid_from = business-local date of its updated_at (NULL for the first version, which
--                also stands for the time before the first export: a system that exports
--                only snapshots then degrades to "the newest known terms throughout");
--   valid_to   = the next version's valid_from (exclusive; NULL for the current version).
-- The version in effect at date D: (valid_from is null or valid_from <= D) and
-- (valid_to is null or D < valid_to). Two versions on the same local date: the later one
-- wins (the earlier gets an empty range).
-- Whether the subscription is running at D comes from the NEWEST version's start_date and
-- end_date (the final, best-known contract dates), not from the version in effect: an
-- expiry recorded the day after the end date must still end the subscription on its end
-- date. Rule: active at D = start_date <= D and (end_date is null or end_date > D).
with

source as (

    select * from {{ source('billing', 'subscriptions') }}

),

current_terms as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

as_of_cut as (

    -- only what was known on the as-of date (same cut as staging)
    select * from source
    where {{ on_or_before_as_of('updated_at') }}

),

deduplicated as (

    -- re-exports repeat a version (same subscription_id and updated_at): keep one copy
    select
        *,
        row_number() over (
            partition by subscription_id, updated_at
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as copy_rank
    from as_of_cut

),

versions as (

    select
        subscription_id,
        product_code,
        seats,
        mrr_jpy,
        usage_rate,
        updated_at,
        {{ local_date('updated_at') }} as changed_on,
        row_number() over (partition by subscription_id order by updated_at) as version_no,
        lead({{ local_date('updated_at') }}) over (
            partition by subscription_id order by updated_at
        ) as next_changed_on
    from deduplicated
    where copy_rank = 1

),

final as (

    select
        versions.subscription_id,
        cast(versions.version_no as integer) as version_no,
        current_terms.account_id,
        versions.product_code,
        versions.seats,
        coalesce(versions.mrr_jpy, 0) as mrr_jpy,
        versions.usage_rate,
        case when versions.version_no = 1 then null else versions.changed_on end as valid_from,
        versions.next_changed_on as valid_to,
        current_terms.start_date,
        current_terms.end_date,
        current_terms.status as current_status,
        versions.updated_at
    from versions
    inner join current_terms
        on versions.subscription_id = current_terms.subscription_id

)

select * from final
