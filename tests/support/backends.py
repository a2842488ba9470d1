"""The databases the API and store suites run on: SQLite always, PostgreSQL when configured."""

import os

import pytest

PG_URL = os.environ.get("AUTHZ_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def available() -> list[str]:
    """Backends to run: postgres only with AUTHZ_TEST_POSTGRES_URL (then it must answer in CI)."""
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


_reset_done = False


def postgres_url(drop: bool = False) -> str:
    """The test PostgreSQL, emptied of this service's tables (dropped once or when asked, else truncated)."""
    global _reset_done
    import psycopg

    try:
        conn = psycopg.connect(PG_URL.replace("postgresql+pool", "postgresql"), autocommit=True,
                               connect_timeout=5)
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
