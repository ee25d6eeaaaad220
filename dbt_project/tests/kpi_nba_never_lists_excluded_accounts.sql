-- Never push to an unhappy customer: no account excluded in upsell_propensity (low NPS,
-- recent support ticket) may appear in upsell_next_best_action. Returns offending rows.
select
    next_best_action.account_id,
    next_best_action.action,
    propensity.excluded_reason
from {{ ref('upsell_next_best_action') }} as next_best_action
inner join {{ ref('upsell_propensity') }} as propensity
    on next_best_action.account_id = propensity.account_id
where propensity.is_excluded
