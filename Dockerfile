# Airflow 3 image for the upsell warehouse, installed from the project's lock file (uv.lock):
# the same pinned versions as `make setup`, no resolution at build time.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow

RUN pip install --no-cache-dir "uv==0.13.9" \
 && useradd --create-home --uid 50000 airflow \
 && mkdir -p /opt/airflow /opt/project && chown -R airflow /opt/airflow /opt/project

WORKDIR /opt/project
COPY pyproject.toml uv.lock README.md ./
COPY include/upsell/__init__.py include/upsell/__init__.py
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev \
 && UPSELL_EMAIL_SALT=parse-only dbt parse --project-dir dbt_project --profiles-dir dbt_project \
      --target-path /opt/project/dbt_project/target --quiet \
 && chown -R airflow /opt/project

USER airflow
