{#- The end of the project's table and view materializations on DuckDB: the relation just
    built under dbt's intermediate name replaces the old one, inside the model's transaction,
    by two plain statements (drop the old relation, rename the new one). dbt's own
    materializations rename the old one to a backup, rename the new one into place and drop
    the backup, each through dbt's adapter: a macro context and logged events per call, on
    dbt's single Python thread, for every model every night (docs/benchmarks.md, eighteenth
    round). A reader sees the old relation or the new one; a failure before the commit
    rolls the swap back (tests/integration/test_table_materialization.py). -#}
{% macro swap_into_place(existing_relation, intermediate_relation, target_relation) %}
  {% if existing_relation is not none and existing_relation.type == target_relation.type %}
    {% call statement('drop_existing') -%}
      drop {{ target_relation.type }} {{ existing_relation }}
    {%- endcall %}
  {% elif existing_relation is not none %}
    {#- a table that becomes a view or the other way round: through the adapter, whose
        relation cache must forget the old type -#}
    {{ drop_relation_if_exists(existing_relation) }}
  {% endif %}
  {% call statement('swap') -%}
    alter {{ target_relation.type }} {{ intermediate_relation }} rename to {{ adapter.quote(target_relation.identifier) }}
  {%- endcall %}
{% endmacro %}
