{#- Use the folder's schema name as is (staging, intermediate, marts, reference) rather than
    dbt's default <target_schema>_<custom>, so BI finds the marts in a schema called marts.
    On Postgres the marts are built into marts_build: BI reads schema marts, which
    `upsell run --target postgres` fills from marts_build in one transaction once the
    marts passed validation (write-audit-publish, upsell/pg_publish.py). On DuckDB the
    serving file plays that role. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}
    {%- elif target.type == 'postgres' and custom_schema_name | trim == 'marts' -%}marts_build
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
