{#- The table materialization on DuckDB: dbt-duckdb's, with the swap of
    macros/materializations/swap.sql and without its catalog queries for indexes and
    foreign keys: with the view materialization, ≈ 0.5–1 s of dbt's Python less in every
    night's build (docs/benchmarks.md, eighteenth round).

    SQL models whose contract has key constraints (primary key, unique, foreign key) or
    that set indexes, partitioned_by or sorted_by are built by dbt-duckdb's own
    materialization. A Python model cannot be handed over (dbt runs one only from the
    materialization it called), so a Python model with such a config is an error. -#}
{% materialization table, adapter="duckdb", supported_languages=['sql', 'python'] %}

  {%- set language = model['language'] -%}
  {%- set key_constraints = enforced_constraint_types()
      | select('in', ['primary_key', 'unique', 'foreign_key']) | list -%}
  {%- if key_constraints or config.get('indexes') or config.get('partitioned_by') or config.get('sorted_by') -%}
    {%- if language != 'sql' -%}
      {{ exceptions.raise_compiler_error(
          "the project's table materialization (macros/materializations/table.sql) builds no "
          ~ "Python model with key constraints, indexes, partitioned_by or sorted_by") }}
    {%- endif -%}
    {{ return(dbt.materialization_table_duckdb()) }}
  {%- endif -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  -- left behind by an interrupted run
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {#- The transaction begins with the first statement: a Python model writes its table
      through a cursor of its own, which must have committed before the swap reads it. -#}
  {% call statement('main', language=language) -%}
    {{ create_table_as(False, intermediate_relation, compiled_code, language) }}
  {%- endcall %}

  {{ swap_into_place(existing_relation, intermediate_relation, target_relation) }}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}

  -- `COMMIT` happens here
  {{ adapter.commit() }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
