{#- dbt's get_where_subquery (the filter a test's `where` config puts around the tested
    relation), with one placeholder: `__as_of_date__` becomes this build's as-of date.

    Why: the history marts (customer_cpm_history, upsell_propensity_history) grow by one
    snapshot every night, and each night rewrites only its own as-of date; their tests
    check that night's snapshot (`where: "as_of_date = __as_of_date__"`), as the marts gate
    does, instead of every snapshot again (a year at L scale is ≈ 160M rows per mart).
    A `where` config is rendered when the project is parsed, where custom macros are not
    available and the as-of date is not known yet (macros/dates.sql: it is read while
    executing); this macro runs while executing. It is dbt's documented way to template a
    `where` filter (docs: resource-configs/where, "Custom logic"). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of_date__', as_of_date()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
