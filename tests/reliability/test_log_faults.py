"""Fail closed on SQLite: a log that cannot commit (the database locked by another writer) is a 503."""

import sqlite3

from authz_service import store
from authz_service.app import create_app
from authz_service.store import fixtures
from tests.support.auth import BOOTSTRAP, bearer
from tests.support.soak import SCALE, tally

CHECK = {"user": "ada@acme.example", "action": "port.delete", "account": "initech"}


def test_a_log_that_cannot_commit_is_503_never_an_allow_then_recovers(tmp_path):
    """R7.4: while another writer holds the database, decisions cannot be recorded, so none is
    answered (503, nothing allowed); once the lock goes, decisions and their entries resume."""
    path = tmp_path / "locked.db"
    app = create_app({"database_url": f"sqlite:///{path}", "bootstrap_key": BOOTSTRAP,
                      "policy_poll_seconds": 0, "mail_poll_seconds": 0, "sqlite_busy_timeout_ms": 100}, migrate=True)
    with store.connection():
        fixtures.load()
    client = app.test_client()
    try:
        for _ in range(SCALE):
            holder = sqlite3.connect(path, timeout=5)
            holder.execute("BEGIN EXCLUSIVE")
            tally("sqlite log cannot commit", faults=1)
            for _ in range(3):
                response = client.post("/v1/authorize", json=CHECK, headers=bearer())
                tally("sqlite log cannot commit", requests=1, server_errors=response.status_code == 500,
                      unauthorized=response.status_code == 200)
                assert response.status_code == 503, response.get_json()
                assert response.get_json()["error"]["code"] == "unavailable"
            holder.rollback()
            holder.close()
            response = client.post("/v1/authorize", json=CHECK, headers=bearer())
            assert response.status_code == 200 and response.get_json()["allowed"] is True
        with store.connection():
            from authz_service.store.models import Decision

            assert Decision.select().where(Decision.action == "port.delete").count() == SCALE
    finally:
        store.close()
