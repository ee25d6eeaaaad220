"""Predictive CLV on the Postgres target: the dbt Python models' work, done by the pipeline.

dbt-postgres runs no Python models, so on Postgres ``int_clv_model_fits`` and
``int_customer_clv_scored`` are SQL stand-ins (``models/intermediate/customer/clv_postgres``)
over the two tables of source ``clv_scoring``, which this step writes between two dbt
builds (``upsell.pipeline.build``): after ``dbt build --selector clv_inputs`` it reads
``int_customer_purchase_summary`` from Postgres, calls the same functions as the DuckDB
Python models (:func:`upsell.clv_marts.fit_models`, :func:`~upsell.clv_marts.score_customers`)
and replaces both tables in one transaction; ``dbt build --selector after_clv_inputs``
then builds the stand-ins and everything downstream.

Where to read and write, and the vars (clv_time_unit, clv_l2_penalty, clv_horizon_days,
clv_discount_rate_monthly), come from the manifest the first build wrote: the same
relations and the same rendered configs dbt uses, ``--vars`` overrides included.

Values cross Postgres exactly: bigint day counts and the double monetary value read back as
Python ints and floats, and the results are written with COPY in shortest round-trip text,
so the fit and the scores are bit for bit those of the DuckDB Python models.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from upsell.clv_marts import PARAM_COLUMNS, PREDICTION_COLUMNS, fit_models, score_customers

log = logging.getLogger(__name__)

PROJECT = "upsell_warehouse"
INPUT_MODEL = "int_customer_purchase_summary"
FITS_MODEL = "int_clv_model_fits"
SCORED_MODEL = "int_customer_clv_scored"
SOURCE = "clv_scoring"
INPUT_COLUMNS = ("account_id", "as_of_date", "clv_frequency", "clv_recency_days", "clv_t_days",
                 "clv_monetary_value_jpy")

# Postgres types of the two source tables; the marts clv_model_params and
# customer_clv_prediction cast them again under their enforced contracts
FITS_TYPES = {"model": "text", "parameter": "text", "value": "double precision",
              "log_likelihood": "double precision", "customers": "bigint", "as_of_date": "date",
              "time_unit": "text", "currency": "text"}
SCORED_TYPES = {"account_id": "text", "as_of_date": "date", "probability_alive": "double precision",
                "expected_purchases_365d": "double precision",
                "expected_avg_purchase_value_jpy": "double precision",
                "predicted_clv_365d_jpy": "double precision", "horizon_days": "integer"}
assert list(FITS_TYPES) == PARAM_COLUMNS and list(SCORED_TYPES) == PREDICTION_COLUMNS


class ClvStepError(RuntimeError):
    """The manifest lacks what the step needs (not a Postgres build?), or the input is missing."""


@dataclass(frozen=True)
class Relation:
    schema: str
    identifier: str
    rendered: str  # as dbt quotes it: "db"."schema"."name"


@dataclass(frozen=True)
class ClvStepSpec:
    """What one run of the step reads, writes and with which settings (from the manifest)."""

    input: Relation
    fits: Relation
    scored: Relation
    time_unit: str
    l2_penalty: float
    horizon_days: float
    monthly_discount_rate: float


@dataclass
class ClvStepResult:
    customers: int
    parameters: int
    seconds: float


def _node(manifest: dict, kind: str, *name: str) -> dict:
    uid = ".".join((kind, PROJECT, *name))
    node = manifest.get("sources" if kind == "source" else "nodes", {}).get(uid)
    if node is None:
        raise ClvStepError(f"{uid} is not enabled in the dbt manifest: the CLV step runs after a dbt "
                           f"build on the postgres target (profile output postgres)")
    return node


def _relation(node: dict) -> Relation:
    return Relation(node["schema"], node.get("identifier") or node.get("alias") or node["name"],
                    node["relation_name"])


def _config_number(config: dict, key: str, model: str) -> float:
    try:
        return float(config[key])
    except (KeyError, TypeError, ValueError):
        raise ClvStepError(f"model {model}: config {key} = {config.get(key)!r} is not a number "
                           f"(set from var {key} in _customer__intermediate.yml)") from None


def step_spec(manifest: dict) -> ClvStepSpec:
    """Read the step's relations and vars from a Postgres-target manifest.

    The stand-ins must declare their input (``-- depends_on``) and their source table: that
    lineage is what the dbt selectors and Cosmos see, so the step refuses to run on
    anything else.
    """
    fits_node = _node(manifest, "model", FITS_MODEL)
    scored_node = _node(manifest, "model", SCORED_MODEL)
    input_node = _node(manifest, "model", INPUT_MODEL)
    fits_source = _node(manifest, "source", SOURCE, "clv_model_fits")
    scored_source = _node(manifest, "source", SOURCE, "customer_clv_scored")
    for node, needs in ((fits_node, (input_node, fits_source)), (scored_node, (input_node, scored_source))):
        missing = [n["unique_id"] for n in needs if n["unique_id"] not in node["depends_on"]["nodes"]]
        if missing:
            raise ClvStepError(f"{node['unique_id']} ({node['original_file_path']}) does not depend on "
                               f"{', '.join(missing)}: it is not the Postgres stand-in the CLV step feeds")
    return ClvStepSpec(
        input=_relation(input_node), fits=_relation(fits_source), scored=_relation(scored_source),
        time_unit=str(fits_node["config"].get("clv_time_unit")),
        l2_penalty=_config_number(fits_node["config"], "clv_l2_penalty", FITS_MODEL),
        horizon_days=_config_number(scored_node["config"], "clv_horizon_days", SCORED_MODEL),
        monthly_discount_rate=_config_number(scored_node["config"], "clv_discount_rate_monthly", SCORED_MODEL))


def copy_text(value) -> str:
    r"""One value in COPY CSV text: ``\N`` for NULL (None, NaN, NaT), floats in shortest
    round-trip form (Postgres reads back the identical double), text always quoted (so an
    empty or ``\N`` string stays a string)."""
    if value is None or value is pd.NaT:
        return r"\N"
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, float):  # numpy.float64 is a float subclass
        return r"\N" if math.isnan(value) else repr(float(value))
    if isinstance(value, int) or hasattr(value, "dtype") and value.dtype.kind in "iu":
        return str(int(value))
    if isinstance(value, datetime):  # pandas.Timestamp too; only date columns hold instants here
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "dtype") and value.dtype.kind == "f":
        return copy_text(float(value))
    if hasattr(value, "dtype") and value.dtype.kind == "M":
        return copy_text(pd.Timestamp(value))
    text = str(value)
    return '"' + text.replace('"', '""') + '"'


def copy_csv(rows: Iterable[Sequence]) -> str:
    return "".join(",".join(copy_text(v) for v in row) + "\n" for row in rows)


def _write(cur, relation: Relation, types: dict[str, str], frame: pd.DataFrame) -> None:
    """Replace ``relation`` with ``frame`` (caller's transaction)."""
    from psycopg2 import sql

    table = sql.Identifier(relation.schema, relation.identifier)
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(relation.schema)))
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in types.items())))
    data = copy_csv(frame[list(types)].itertuples(index=False, name=None))
    cur.copy_expert(sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(table).as_string(cur),
                    io.StringIO(data))


def read_summary(cur, relation: Relation) -> pd.DataFrame:
    """The CLV inputs, one row per customer (order does not matter: fit_models sorts)."""
    cur.execute(f"SELECT {', '.join(INPUT_COLUMNS)} FROM {relation.rendered}")
    return pd.DataFrame.from_records(cur.fetchall(), columns=list(INPUT_COLUMNS))


def run_clv_step(manifest_path: Path, pg=None) -> ClvStepResult:
    """Fit and score from the manifest's input relation; replace both ``clv_scoring`` tables
    in one transaction (a failure leaves last night's tables, and dbt is not run on)."""
    from upsell.target import pg_transaction

    t0 = time.perf_counter()
    try:
        manifest = json.loads(Path(manifest_path).read_text())
    except FileNotFoundError:
        raise ClvStepError(f"no dbt manifest at {manifest_path}: run dbt build --selector clv_inputs first") from None
    spec = step_spec(manifest)
    with pg_transaction(pg) as pg, pg.cursor() as cur:
        summary = read_summary(cur, spec.input)
        fits = fit_models(summary, time_unit=spec.time_unit, l2_penalty=spec.l2_penalty)
        scored = score_customers(summary, fits, horizon_days=spec.horizon_days,
                                 monthly_discount_rate=spec.monthly_discount_rate)
        _write(cur, spec.fits, FITS_TYPES, fits)
        _write(cur, spec.scored, SCORED_TYPES, scored)
    result = ClvStepResult(customers=len(scored), parameters=len(fits), seconds=time.perf_counter() - t0)
    log.info("predictive CLV on Postgres: fitted and scored %d customers into %s and %s in %.1f s",
             result.customers, spec.fits.rendered, spec.scored.rendered, result.seconds)
    return result
