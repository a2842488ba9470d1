"""Concurrent invites and links for the same long email on PostgreSQL (R4.2, R1.2, R7.4): every
call is answered by its contract (never a 409 from a lost race on an idempotent PUT, never a
503), and every decision is stored with a chain that verifies."""

import threading
from collections import Counter
from urllib.parse import quote

import pytest

from authz_service import store
from authz_service.log import audit
from tests.support import backends
from tests.support.auth import bearer

pytestmark = [pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL"),
              backends.SHARES_CHECKOUT_VAR]
EMAIL = ("l" * 60 + ".") * 3 + "m" * 50 + "@acme.example"  # 253 characters: the log cuts its target
ADMIN = {"user": "ada@acme.example"}


@pytest.fixture
def database_url() -> str:
    """PostgreSQL only: its row locks are what these calls race on."""
    return backends.postgres_url()


def _together(app, count: int, call) -> Counter:
    """`count` threads, each with its own client, released at once; their status codes."""
    codes: Counter = Counter()
    start = threading.Barrier(count)

    def run(i):
        client = app.test_client()
        start.wait()
        for status in call(client, i):
            codes[status] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_concurrent_puts_of_the_same_link_all_succeed(app):
    """16 simultaneous PUTs of one new link, 5 rounds (revoked between them): each round one
    201 and fifteen 200, never a 409 or 503. Fails without store.directory.put_link's
    insert-on-conflict (get-then-create loses the race: 409)."""
    client = app.test_client()
    assert client.put(f"/v1/partners/acme/users/{quote(EMAIL)}", json={"group": "regular"},
                      headers=bearer()).status_code in (200, 201)
    path = f"/v1/customers/initech/links/{quote(EMAIL)}"
    for _ in range(5):
        codes = _together(app, 16, lambda c, i: [c.put(path, json=ADMIN, headers=bearer()).status_code])
        assert codes == Counter({201: 1, 200: 15}), codes
        assert client.delete(f"{path}?user=ada%40acme.example", headers=bearer()).status_code == 204
    _log_complete(client, 5 * 17)


def test_concurrent_invites_for_the_same_long_email_all_succeed(app):
    """16 partners' admins' calls at once, 3 each, inviting the same 253-character email: all 201,
    every decision stored (its target cut and marked altered), the chain verifies."""
    client = app.test_client()
    body = {**ADMIN, "email": EMAIL}
    codes = _together(app, 16, lambda c, i: [c.post("/v1/partners/acme/invites", json=body,
                                                    headers=bearer()).status_code for _ in range(3)])
    assert codes == Counter({201: 48}), codes
    _log_complete(client, 48)


def _log_complete(client, at_least: int) -> None:
    page = client.get("/v1/decisions?user=ada%40acme.example&limit=500", headers=bearer())
    assert page.status_code == 200, page.get_json()
    grants = [e for e in page.get_json()["items"] if e["action"] in ("grant.manage", "customer.invite")]
    assert len(grants) >= at_least
    assert all(e["altered"] and e["resource"]["id"].endswith("…") for e in grants)
    with store.connection():
        assert audit.verify().problem is None
