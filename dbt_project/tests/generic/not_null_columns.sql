{#- Nulls in any of the listed columns: one query over the model for all of them, where
    dbt's built-in not_null is one query and one dbt node per column. The node count, not
    the SQL, was the cost: ≈ 30 ms of dbt's own Python per test node, and a test on a view
    re-runs the view (docs/benchmarks.md, eighth round). A failing model returns one row
    with the number of null values per listed column. -#}
{% test not_null_columns(model, columns) %}
    select *
    from (
        select
            {%- for column in columns %}
            sum(case when {{ adapter.quote(column) }} is null then 1 else 0 end) as {{ adapter.quote(column ~ '__nulls') }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ model }}
    ) as null_counts
    where
        {%- for column in columns %}
        {{ adapter.quote(column ~ '__nulls') }} > 0{% if not loop.last %} or{% endif %}
        {%- endfor %}
{% endtest %}
