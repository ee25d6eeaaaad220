# Airflow 3 image for the upsell warehouse, installed from the project's lock file:
# `uv sync --frozen` installs exactly the versions `make setup` does (no resolution at build
# time, no Airflow constraints file). Used by every service of docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    HOME=/opt/airflow

# The services run as ${AIRFLOW_UID}:0 (an arbitrary uid in group 0, as with the official
# image): everything they write belongs to group 0 and is group-writable.
RUN pip install --no-cache-dir "uv==0.13.9" \
 && useradd --create-home --home-dir /home/airflow --uid 50000 --gid 0 airflow \
 && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/airflow/dbt /opt/project /data/landing /data/warehouse

WORKDIR /opt/project
# dependencies first (cached while only the project's code changes), then the project itself
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# editable install (uv's default): `upsell` resolves to /opt/project/include, where the
# compose file mounts the checked-out folders. The manifest built here lets the image run
# without airflow-init; airflow-init rebuilds it from the mounted dbt project.
RUN uv sync --frozen --no-dev \
 && UPSELL_EMAIL_SALT=parse-only dbt parse --project-dir dbt_project --profiles-dir dbt_project \
      --target-path /opt/airflow/dbt --log-path /opt/airflow/logs/dbt --quiet \
 && chown -R 50000:0 /opt/airflow /opt/project /data \
 && chmod -R g+rwX /opt/airflow /opt/project /data

USER 50000:0
ENTRYPOINT ["airflow"]
CMD ["version"]
