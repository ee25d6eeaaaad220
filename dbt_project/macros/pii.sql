{#- Pseudonymise an email: salted MD5 of the trimmed, lower-cased address. The salt comes
    from the environment (UPSELL_EMAIL_SALT), never from the repository; `upsell run`
    creates a random one beside the warehouse when none is configured. MD5 is available in
    both DuckDB and Postgres; with a secret salt it serves as a join key, not as security. -#}
{% macro email_hash(column) -%}
    case when {{ column }} is not null
        then md5('{{ env_var("UPSELL_EMAIL_SALT") }}' || lower(trim({{ column }})))
    end
{%- endmacro %}
