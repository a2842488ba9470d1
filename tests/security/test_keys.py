"""API keys: only a digest is stored, revocable, optionally expiring (docs/api.md conventions)."""

from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
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
