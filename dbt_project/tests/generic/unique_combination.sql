{#- Rows whose combination of columns is not unique (dbt_utils-style, without the package:
    dbt packages come from the internet, and this project installs only from PyPI). -#}
{% test unique_combination(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
