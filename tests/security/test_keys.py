"""API keys: only a digest is stored, revocable, optionally expiring (docs/api.md conventions)."""

import threading

from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.store import keys as store_keys
from authz_service.store.models import ApiKey, utcnow
from tests.support.auth import bearer

CHECK = {"user": "ada@acme.example", "action": "port.view", "account": "acme"}


def make_key(monkeypatch, database_url, *args) -> str:
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["keys", "create", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_a_key_is_stored_as_a_digest_and_can_be_revoked(client, monkeypatch, database_url):
    """No plaintext key in the database; a revoked key is 401 at once."""
    key = make_key(monkeypatch, database_url, "svc", "--scope", "decide")
    assert client.post("/v1/authorize", json=CHECK, headers=bearer(key)).status_code == 200
    with store.connection():
        stored = [(k.key_hash, k.name) for k in ApiKey.select()]
    assert all(key not in h and key[4:] not in h for h, _ in stored)
    assert CliRunner().invoke(main, ["keys", "revoke", "svc"]).exit_code == 0
    assert client.post("/v1/authorize", json=CHECK, headers=bearer(key)).status_code == 401


def test_an_expired_key_is_refused(client, monkeypatch, database_url):
    """A key made with --expires-in-days works until then, and is 401 after."""
    key = make_key(monkeypatch, database_url, "temp", "--scope", "decide", "--expires-in-days", "1")
    assert client.post("/v1/authorize", json=CHECK, headers=bearer(key)).status_code == 200
    with store.connection():
        ApiKey.update(expires_at=utcnow()).where(ApiKey.name == "temp").execute()
    response = client.post("/v1/authorize", json=CHECK, headers=bearer(key))
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_no_stack_trace_in_any_error(client):
    """Errors carry the contract's shape only: no traceback, no file paths."""
    for response in (client.post("/v1/authorize", data="{", content_type="application/json",
                                 headers=bearer()),
                     client.get("/v1/nowhere", headers=bearer()),
                     client.post("/v1/authorize", json={"user": 1}, headers=bearer())):
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and ".py" not in text


def _seen_twice(monkeypatch, key: str) -> list:
    """Find the key twice in this thread; the rows read from the database (SQLite keeps the first)."""
    read, row = [], store_keys._row
    monkeypatch.setattr(store_keys, "_row", lambda key_hash: read.append(key_hash) or row(key_hash))
    assert store_keys.find(key) is not None and store_keys.find(key) is not None
    return read


def test_a_key_revoked_on_another_connection_is_refused_at_once(app, database_url, monkeypatch):
    """A key a thread has seen is refused as soon as another connection's revoke commits
    (SQLite: each thread keeps key rows while facts_epoch is unchanged; store/kept_facts.py, decision 048)."""
    with store.connection():
        key = store_keys.create("svc", ["decide"])
    with store.connection():
        read = _seen_twice(monkeypatch, key)
        assert len(read) == (1 if database_url.startswith("sqlite") else 2)

        def revoke_elsewhere():
            with store.connection():
                store_keys.revoke("svc")

        other = threading.Thread(target=revoke_elsewhere)
        other.start()
        other.join()
        assert store_keys.find(key) is None


def test_a_key_revoked_on_the_same_connection_is_refused_at_once(app, monkeypatch):
    """The same, when the revoke runs on the connection that read the key (the trigger moves the
    epoch in the revoking transaction, which that connection then reads)."""
    with store.connection():
        key = store_keys.create("svc", ["decide"])
    with store.connection():
        _seen_twice(monkeypatch, key)
        store_keys.revoke("svc")
        assert store_keys.find(key) is None
