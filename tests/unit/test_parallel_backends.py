"""The suite runs on pytest-xdist workers (docs/decisions/040-ci-time.md): each worker its own
PostgreSQL database, and PostgreSQL apps' files in the test's folder, never the checkout's var/."""

import os

from tests.support import backends


def test_each_worker_gets_its_own_database_name():
    """`test` becomes `test_gw0`, `test_gw1`: no worker truncates another's tables; outside xdist the
    URL stays as given (a run in one process uses the database it was told)."""
    url = "postgresql://postgres@127.0.0.1:5432/test"
    assert backends.worker_url(url, "gw0") == "postgresql://postgres@127.0.0.1:5432/test_gw0"
    assert backends.worker_url(url, "gw1") == "postgresql://postgres@127.0.0.1:5432/test_gw1"
    assert backends.worker_url(url, "") == url
    assert backends.worker_url("", "gw0") == ""
    pooled = "postgresql+pool://postgres@db:5432/test?connect_timeout=5"
    assert backends.worker_url(pooled, "gw3") == "postgresql+pool://postgres@db:5432/test_gw3?connect_timeout=5"


def test_this_worker_uses_its_own_database():
    """Under xdist, the URL every PostgreSQL test takes names this worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if backends.PG_URL and worker:
        assert backends.PG_URL.endswith(f"_{worker}")


def test_postgres_apps_keep_their_files_in_the_test_folder(tmp_path):
    """Log key, checkpoints and console secret of a PostgreSQL app go to the test's folder (var/
    by default, shared by the workers); SQLite keeps them beside its own file."""
    files = backends.side_files("postgresql://postgres@127.0.0.1/test_gw0", tmp_path)
    assert set(files) == {"log_key_file", "log_witness_dir", "console_secret_file"}
    assert all(value.startswith(str(tmp_path)) for value in files.values())
    assert backends.side_files(f"sqlite:///{tmp_path}/a.db", tmp_path) == {}
