{#- Generic data tests of the customer area. -#}

{#- Every RFM cell 111..555 is mapped exactly once, and rfm_cell agrees with its score
    columns. Fails with one row per missing, duplicated or inconsistent cell. -#}
{% test customer_rfm_map_complete(model) %}
    with

    scores as (
        select 1 as s union all select 2 union all select 3 union all select 4 union all select 5
    ),

    expected as (
        select
            cast(r.s as {{ dbt.type_string() }}) || cast(f.s as {{ dbt.type_string() }})
                || cast(m.s as {{ dbt.type_string() }}) as rfm_cell
        from scores as r cross join scores as f cross join scores as m
    ),

    mapped as (
        select
            cast(rfm_cell as {{ dbt.type_string() }}) as rfm_cell,
            count(*) as n,
            max(case
                when cast(r_score as {{ dbt.type_string() }}) || cast(f_score as {{ dbt.type_string() }})
                    || cast(m_score as {{ dbt.type_string() }}) <> cast(rfm_cell as {{ dbt.type_string() }})
                    then 1 else 0
            end) as inconsistent
        from {{ model }}
        group by 1
    )

    select
        coalesce(e.rfm_cell, m.rfm_cell) as rfm_cell,
        case
            when m.rfm_cell is null then 'missing'
            when e.rfm_cell is null then 'not a valid cell'
            when m.n > 1 then 'duplicated'
            else 'rfm_cell does not match r_score/f_score/m_score'
        end as problem
    from expected as e
    full outer join mapped as m on e.rfm_cell = m.rfm_cell
    where m.rfm_cell is null or e.rfm_cell is null or m.n > 1 or m.inconsistent = 1
{% endtest %}
