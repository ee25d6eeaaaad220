-- The fitted parameters of the predictive CLV models, one row per model and parameter:
-- BG/NBD (r, alpha, a, b; alpha in time_unit) and Gamma-Gamma (p, q, gamma in JPY, and
-- the frequency-monetary correlation it assumes to be weak). Fitted in the Python model
-- int_clv_model_fits; this SQL mart gives it an enforced contract.
with

fits as (

    select * from {{ ref('int_clv_model_fits') }}

),

final as (

    select
        cast(model as varchar) as model,
        cast(parameter as varchar) as parameter,
        cast(value as double precision) as value,
        cast(log_likelihood as double precision) as log_likelihood,
        cast(customers as bigint) as customers,
        cast(as_of_date as date) as as_of_date,
        cast(time_unit as varchar) as time_unit,
        cast(currency as varchar) as currency
    from fits

)

select * from final
