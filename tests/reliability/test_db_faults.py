"""Fail closed: when the database cannot answer, decisions are 503, never an allow; then recovery."""

from urllib.parse import urlparse

import pytest

from authz_service import store
from authz_service.app import create_app
from authz_service.store import fixtures
from tests.support import backends
from tests.support.auth import BOOTSTRAP, bearer
from tests.support.proxy import Proxy
from tests.support.soak import SCALE, tally

pytestmark = [pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL"),
              backends.SHARES_CHECKOUT_VAR]
CHECK = {"user": "ada@acme.example", "action": "port.delete", "account": "initech"}


@pytest.fixture
def faulty(tmp_path):
    """The service on PostgreSQL reached through a proxy the test can cut."""
    url = backends.postgres_url()
    target = urlparse(url)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxied = url.replace(f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}")
    app = create_app({"database_url": proxied, "bootstrap_key": BOOTSTRAP, "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
    yield app.test_client(), proxy
    proxy.close()
    store.close()


def test_unreachable_database_is_503_then_recovers(faulty):
    """Database gone: authorize, batch, links and readiness answer 503 (or not ready); back: allowed again."""
    client, proxy = faulty
    for _ in range(SCALE):
        _cut_and_restore(client, proxy)


def _cut_and_restore(client, proxy):
    """One fault: the link to the database cut, then restored."""
    assert client.post("/v1/authorize", json=CHECK, headers=bearer()).json["allowed"] is True
    proxy.cut()
    tally("database unreachable", faults=1)
    for _ in range(3):
        response = client.post("/v1/authorize", json=CHECK, headers=bearer())
        tally("database unreachable", requests=1, server_errors=response.status_code == 500,
              unauthorized=response.status_code == 200 and response.json["allowed"])
        assert response.status_code == 503, response.json
        assert response.json["error"]["code"] == "unavailable"
        assert response.headers["Retry-After"] == "1"
    batch = client.post("/v1/authorize/batch", json={"user": "ada@acme.example", "checks": [
        {"action": "port.view", "account": "initech"}]}, headers=bearer())
    assert batch.status_code == 503
    link = client.put("/v1/customers/hooli/links/lee@acme.example", json={"user": "ada@acme.example"},
                      headers=bearer())
    assert link.status_code == 503
    assert client.get("/readyz").status_code == 503
    proxy.restore()
    recovered = [client.post("/v1/authorize", json=CHECK, headers=bearer()) for _ in range(3)]
    assert recovered[-1].status_code == 200 and recovered[-1].json["allowed"] is True
    assert client.get("/readyz").status_code == 200


def test_read_only_database_is_503_then_recovers(faulty):
    """A database that turns read-only: every decision is 503 (it cannot be recorded), never an
    allow; writable again, decisions resume."""
    import psycopg

    client, proxy = faulty
    url = urlparse(backends.PG_URL)
    name = url.path.lstrip("/")
    admin = psycopg.connect(backends.PG_URL, autocommit=True)
    try:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        proxy.cut()  # pooled connections go; new ones start read-only
        proxy.restore()
        tally("database read-only", faults=1)
        for _ in range(3):
            response = client.post("/v1/authorize", json=CHECK, headers=bearer())
            tally("database read-only", requests=1, server_errors=response.status_code == 500,
                  unauthorized=response.status_code == 200)
            assert response.status_code == 503, response.json
    finally:
        admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        admin.close()
    proxy.cut()
    proxy.restore()
    recovered = [client.post("/v1/authorize", json=CHECK, headers=bearer()) for _ in range(3)]
    assert recovered[-1].status_code == 200 and recovered[-1].json["allowed"] is True
