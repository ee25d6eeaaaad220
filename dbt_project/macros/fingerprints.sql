{#- An order-independent fingerprint of a group's rows over `columns` (an aggregate, as text):
    equal sets of rows give equal fingerprints. DuckDB sums 64-bit row hashes into a
    128-bit integer (no ordering, no string building); other databases take the md5 of the
    rows' text, sorted. -#}
{% macro set_fingerprint(columns) %}
    {{- return(adapter.dispatch('set_fingerprint')(columns)) -}}
{% endmacro %}

{% macro duckdb__set_fingerprint(columns) -%}
    cast(sum(hash({{ columns | join(', ') }})) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro default__set_fingerprint(columns) -%}
    {%- set row_text -%}
        concat_ws('|'
        {%- for column in columns -%}
            , coalesce(cast({{ column }} as {{ dbt.type_string() }}), '~')
        {%- endfor -%})
    {%- endset -%}
    md5(string_agg({{ row_text }}, ',' order by {{ row_text }}))
{%- endmacro %}


{#- The accounts whose fingerprints differ between two selects of (account_id, fingerprint),
    `current_sql` (from the inputs) and `stored_sql` (what the rows were computed from), or
    that only one of them has: a select of account_id. The incremental per-account models'
    pre-hooks delete these accounts' rows (macros/mrr_incremental.sql,
    macros/purchases_incremental.sql). -#}
{% macro accounts_with_other_fingerprints(current_sql, stored_sql) %}
    select coalesce(current_side.account_id, stored_side.account_id) as account_id
    from ({{ current_sql }}) as current_side
    full outer join ({{ stored_sql }}) as stored_side
        on current_side.account_id = stored_side.account_id
    where current_side.fingerprint is null
        or stored_side.fingerprint is null
        or current_side.fingerprint <> stored_side.fingerprint
{% endmacro %}
