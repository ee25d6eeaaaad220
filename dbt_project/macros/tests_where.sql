{#- dbt's get_where_subquery (the filter a test's `where` config puts around the tested
    relation), with one placeholder: `__as_of_date__` becomes this build's as-of date.

    Why: the history marts (customer_cpm_history, upsell_propensity_history) grow by one
    snapshot every night, and each night rewrites only its own as-of date; their tests
    check that night's snapshot (`where: "as_of_date = __as_of_date__"`), as the marts gate
    does, instead of every snapshot again (a year at L scale is ≈ 160M rows per mart).
    A `where` config is rendered when the project is parsed, where custom macros are not
    available and the as-of date is not known yet (macros/dates.sql: it is read while
    executing); this macro runs while executing. It is dbt's documented way to template a
    `where` filter (docs: resource-configs/where, "Custom logic").

    Two more placeholders scope the key tests of the incremental tables to what the last
    run wrote (macros/incremental.sql, incremental_batch_no): `__this__` is the tested
    relation and `__latest_batch__` its highest `_batch_no`, e.g.
    `where: "event_id in (select event_id from __this__ where _batch_no = __latest_batch__)"`.
    The number is read once per test and inlined. When it is 1 (a first build or a full
    refresh: every row is in the latest batch) or var key_tests_latest_batch_only is false,
    the filter is dropped and the test reads the whole table, as dbt's own does (the filter
    would only add a join).

    Two more scope the tests of mrr_movements to the rows its last build rewrote (its rewrite
    log, macros/mrr_incremental.sql): `__rewritten_from__` (the first month rewritten for
    every account) and `__rewritten_accounts__` (a query of the accounts rewritten whole),
    e.g. `where: "month >= __rewritten_from__ or account_id in (__rewritten_accounts__)"`.
    Every row is read when the last build rewrote every row, or the var asks for it. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of_date__', as_of_date()) -%}
        {%- if '__rewritten_' in where -%}
            {%- set rewrite = mrr_last_rewrite() if var('key_tests_latest_batch_only') else none -%}
            {%- if rewrite is none -%}
                {%- do return(relation) -%}
            {%- endif -%}
            {%- set where = where | replace('__rewritten_from__', "cast('" ~ rewrite.rewritten_from ~ "' as date)")
                                  | replace('__rewritten_accounts__', rewrite.accounts) -%}
        {%- endif -%}
        {%- if '__latest_batch__' in where -%}
            {%- set latest = latest_batch_no(relation) if var('key_tests_latest_batch_only') else none -%}
            {%- if latest is none or latest <= 1 -%}
                {#- a first build or a full refresh wrote every row (or the var asks for all) -#}
                {%- do return(relation) -%}
            {%- endif -%}
            {%- set where = where | replace('__latest_batch__', latest | string) | replace('__this__', relation) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The highest `_batch_no` of an incremental table (macros/incremental.sql), or none; none
    too before the table exists, so that `dbt compile` (and sqlfluff) work on a new warehouse. -#}
{% macro latest_batch_no(relation) -%}
    {%- if not execute or load_relation(relation) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = run_query('select max(_batch_no) from ' ~ relation).columns[0].values()[0] -%}
    {{ return(none if value is none else value | int) }}
{%- endmacro %}
