"""A broken or malformed log database: `authz log verify` exits 2 with a clear message, never a
traceback; the log read API answers the contract's 503, never a 500 (R7.4, docs/api.md)."""

import os

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from tests.support.auth import bearer


def _verify(url: str, monkeypatch):
    monkeypatch.setenv("AUTHZ_DATABASE_URL", url)
    result = CliRunner().invoke(main, ["log", "verify"])
    store.close()
    return result


def _truncate(path: str, size: int) -> None:
    for suffix in ("-wal", "-shm"):  # a killed server's leftovers would hide the damage
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    with open(path, "r+b") as db:
        db.truncate(size)


def test_verify_on_a_database_without_its_log_table_exits_2(app, database_url, monkeypatch):
    """The decision table is missing (both stores): a clear message naming the problem, status 2.
    Fails without cli._readable_log (an OperationalError/ProgrammingError traceback, status 1)."""
    with store.connection():  # moved away and back: the test PostgreSQL is only truncated between tests
        store.database.execute_sql('ALTER TABLE "decision" RENAME TO "decision_away"')
    store.close()
    try:
        result = _verify(database_url, monkeypatch)
    finally:
        with store.connection():
            store.database.execute_sql('ALTER TABLE "decision_away" RENAME TO "decision"')
    assert result.exit_code == 2, result.output
    assert "cannot read the decision log" in result.output and "decision" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("damage", ["truncated", "not a database"])
def test_verify_on_a_malformed_sqlite_file_exits_2(tmp_path, monkeypatch, damage):
    """A SQLite file cut short (a restore that copied part of a file) or not a database at all."""
    from authz_service.app import create_app
    from authz_service.store import fixtures

    path = str(tmp_path / "authz.db")
    create_app({"database_url": f"sqlite:///{path}", "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
    store.close()
    if damage == "truncated":
        _truncate(path, 8192)
    else:
        with open(path, "wb") as db:
            db.write(os.urandom(5000))
    result = _verify(f"sqlite:///{path}", monkeypatch)
    assert result.exit_code == 2, result.output
    assert "cannot read the decision log" in result.output
    assert isinstance(result.exception, SystemExit)


def test_the_log_read_api_on_a_broken_log_is_503(app, client, keys):
    """Reading the log when its table is gone: the contract's JSON 503, never a 500."""
    with store.connection():
        store.database.execute_sql('ALTER TABLE "decision" RENAME TO "decision_away"')
    try:
        for path in ("/v1/decisions", "/v1/accounts/initech/activity?user=ada@acme.example"):
            response = client.get(path, headers=bearer(keys["all"]))
            assert response.status_code == 503, (path, response.status_code, response.get_data()[:300])
            assert response.get_json()["error"]["code"] == "unavailable"
    finally:
        with store.connection():
            store.database.execute_sql('ALTER TABLE "decision_away" RENAME TO "decision"')


def test_the_log_read_api_on_a_malformed_sqlite_file_is_503(tmp_path):
    """The database file itself is damaged under a running service: 503, never a 500."""
    from authz_service.app import create_app
    from authz_service.store import fixtures
    from tests.support.auth import BOOTSTRAP

    path = str(tmp_path / "authz.db")
    app = create_app({"database_url": f"sqlite:///{path}", "bootstrap_key": BOOTSTRAP,
                      "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
    store.close()
    _truncate(path, 8192)
    try:
        response = app.test_client().get("/v1/decisions", headers=bearer())
        assert response.status_code == 503, response.get_data()[:300]
        assert response.get_json()["error"]["code"] == "unavailable"
    finally:
        store.close()
