"""
### upsell_crm_sync (example consumer)

Runs whenever `upsell_nightly` publishes a new `upsell_next_best_action` mart (an Airflow
Asset event, not a time schedule) and writes the sales list as a CSV file a CRM import
can pick up (`UPSELL_CRM_OUTBOX`, default `<warehouse dir>/outbox/`). Copy it as the
template for a BI extract refresh or a real CRM API sync.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from upsell.dag_support import mart_asset

NEXT_BEST_ACTION = mart_asset("upsell_next_best_action")


@dag(
    dag_id="upsell_crm_sync",
    schedule=[NEXT_BEST_ACTION],
    start_date=pendulum.datetime(2023, 4, 1, tz="Asia/Tokyo"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1),
                  "retry_exponential_backoff": True, "execution_timeout": timedelta(minutes=30)},
    tags=["upsell", "consumer", "crm"],
    doc_md=__doc__,
)
def upsell_crm_sync():
    @task(inlets=[NEXT_BEST_ACTION])
    def export_sales_list() -> dict:
        """Write the published next-best-action list (ids only, no personal data) to the outbox."""
        from upsell.crm_sync import export_next_best_actions

        return export_next_best_actions()

    export_sales_list()


upsell_crm_sync()
