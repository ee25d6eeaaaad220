{#- Lists of values gathered by an aggregate and examined after it (DuckDB lists, Postgres
    arrays). They let one GROUP BY decide what depends on a group-level value that is only
    known once the group is complete (int_email_messages_summarised: an open is a machine
    open when it came no later than N seconds after the message reached the inbox, and
    the inbox time is the group's earliest delivered event). An empty FILTER gives NULL. -#}

{#- Aggregate: the values of `expr` (use with FILTER (WHERE ...)). -#}
{% macro agg_list(expr) -%}
    {{ return(adapter.dispatch('agg_list', 'upsell_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__agg_list(expr) -%}
    array_agg({{ expr }})
{%- endmacro %}

{% macro duckdb__agg_list(expr) -%}
    list({{ expr }})
{%- endmacro %}

{#- How many values of the list are <= bound (0 for a NULL list or bound). -#}
{% macro list_count_at_or_before(list_expr, bound) -%}
    {{ return(adapter.dispatch('list_count_at_or_before', 'upsell_warehouse')(list_expr, bound)) }}
{%- endmacro %}

{% macro default__list_count_at_or_before(list_expr, bound) -%}
    coalesce((select count(*) from unnest({{ list_expr }}) as listed (v) where v <= {{ bound }}), 0)
{%- endmacro %}

{% macro duckdb__list_count_at_or_before(list_expr, bound) -%}
    coalesce(len(list_filter({{ list_expr }}, lambda v: v <= {{ bound }})), 0)
{%- endmacro %}

{#- The smallest value of the list that is > bound; with a NULL bound the smallest value. -#}
{% macro list_min_after(list_expr, bound) -%}
    {{ return(adapter.dispatch('list_min_after', 'upsell_warehouse')(list_expr, bound)) }}
{%- endmacro %}

{% macro default__list_min_after(list_expr, bound) -%}
    (select min(v) from unnest({{ list_expr }}) as listed (v) where {{ bound }} is null or v > {{ bound }})
{%- endmacro %}

{% macro duckdb__list_min_after(list_expr, bound) -%}
    list_min(list_filter({{ list_expr }}, lambda v: {{ bound }} is null or v > {{ bound }}))
{%- endmacro %}
