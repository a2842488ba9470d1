"""The databases the API and store suites run on: SQLite always, PostgreSQL when configured."""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
# Tests whose PostgreSQL servers or apps keep their log key, checkpoints and console secret in the
# checkout's var/ (its default; replicas share it there): one xdist worker runs them all, in turn.
SHARES_CHECKOUT_VAR = pytest.mark.xdist_group("checkout-var")


def worker_url(url: str, worker: str) -> str:
    """The database of one pytest-xdist worker: `.../test` becomes `.../test_gw0` (the URL unchanged
    outside xdist), so parallel workers never reset each other's tables (docs/decisions/040-ci-time.md)."""
    if not url or not worker:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{worker}"))


PG_URL = worker_url(os.environ.get("AUTHZ_TEST_POSTGRES_URL", ""), os.environ.get("PYTEST_XDIST_WORKER", ""))


def side_files(url: str, folder) -> dict:
    """Settings that keep a PostgreSQL app's log key, checkpoints and console secret in `folder`
    (by default they go to the checkout's var/, which parallel workers would share; SQLite keeps
    them beside its file already)."""
    if url.startswith("sqlite:"):
        return {}
    return {"log_key_file": f"{folder}/log-key", "log_witness_dir": f"{folder}/log-witness",
            "console_secret_file": f"{folder}/console-secret"}


def available() -> list[str]:
    """Backends to run: postgres only with AUTHZ_TEST_POSTGRES_URL (then it must answer in CI)."""
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


_reset_done = False


def postgres_url(drop: bool = False) -> str:
    """The test PostgreSQL, emptied of this service's tables (dropped once or when asked, else truncated)."""
    global _reset_done
    import psycopg

    try:
        conn = _connect(psycopg)
    except psycopg.OperationalError as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL at AUTHZ_TEST_POSTGRES_URL does not answer: {exc}")
    with conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()]
        if tables and (drop or not _reset_done):
            conn.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        elif tables:
            keep = {"schema_version"}
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables if t not in keep) + " CASCADE")
    _reset_done = True
    return PG_URL


def _connect(psycopg):
    """A connection to PG_URL's database, created first when it is missing (a worker's own)."""
    url = PG_URL.replace("postgresql+pool", "postgresql")
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        name = urlsplit(url).path.lstrip("/")
        if "does not exist" not in str(exc) or not os.environ.get("PYTEST_XDIST_WORKER"):
            raise
    with psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True,
                         connect_timeout=5) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    return psycopg.connect(url, autocommit=True, connect_timeout=5)
