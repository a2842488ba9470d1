"""Two `authz serve` replicas on one PostgreSQL behave as one service (R4.6, R6)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import backends
from tests.system.server import Server

pytestmark = [pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL")]

LINK = "/v1/customers/hooli/links/lee@acme.example"
CHECK = {"user": "lee@acme.example", "action": "port.create", "account": "hooli"}


@pytest.fixture
def replicas(tmp_path):
    """Replicas A and B, two workers each, sharing the emptied test PostgreSQL."""
    url = backends.postgres_url()
    a = Server(tmp_path / "a", workers=2, env={"AUTHZ_DATABASE_URL": url})
    b = Server(tmp_path / "b", workers=2, env={"AUTHZ_DATABASE_URL": url})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a.load_demo()
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


def decide_on_both(a, b, count: int) -> list[dict]:
    """`count` decisions, alternating replicas, from 8 concurrent clients."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda i: (a if i % 2 else b).call("POST", "/v1/authorize", CHECK)[1],
                             range(count)))


def test_a_link_made_on_one_replica_holds_on_the_other(replicas):
    """R4.6: link on A, allowed on B; revoke on B, every later decision on A and B denies."""
    a, b = replicas
    assert a.call("PUT", LINK, {"user": "ada@acme.example", "group": "regular"})[0] == 201
    assert all(r["allowed"] for r in decide_on_both(a, b, 100))
    assert b.call("DELETE", LINK + "?user=ada@acme.example")[0] == 204
    after = decide_on_both(a, b, 200)
    assert not [r for r in after if r["allowed"]]


def test_a_session_opened_on_one_replica_works_on_the_other(replicas):
    """R6.1, R6.2: open on A, bind on B, decide through it on A; another account is refused."""
    a, b = replicas
    status, body = a.call("POST", "/v1/sessions", {"user": "rita@acme.example"})
    assert status == 201
    session = body["session_id"]
    status, body = b.call("PUT", f"/v1/sessions/{session}/customer", {"customer_id": "initech"})
    assert (status, body["group"]) == (200, "regular")
    status, body = a.call("POST", "/v1/authorize", {"user": "rita@acme.example",
                          "action": "port.create", "session": session})
    assert body["allowed"] is True
    status, body = b.call("POST", "/v1/authorize", {"user": "rita@acme.example",
                          "action": "port.view", "account": "umbrella", "session": session})
    assert body["allowed"] is False


def test_cursors_from_one_replica_work_on_the_other(replicas):
    """A page cursor signed by A is accepted by B (the secret lives in the database)."""
    a, b = replicas
    status, page = a.call("POST", "/v1/authorize/accounts", {"user": "ada@acme.example",
                          "action": "port.view", "limit": 2})
    assert status == 200 and page["next_cursor"]
    status, rest = b.call("POST", "/v1/authorize/accounts", {"user": "ada@acme.example",
                          "action": "port.view", "limit": 2, "cursor": page["next_cursor"]})
    assert status == 200
    assert page["items"] + rest["items"] == ["acme", "hooli", "initech", "umbrella"]
