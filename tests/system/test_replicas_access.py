"""Who can act, on two `authz serve` replicas over one PostgreSQL: a revoke or a promotion made
through one replica is in the other's subject search and /access at once (R4.6, R4.9, R10.3)."""

import pytest

from tests.support import backends
from tests.support.server import Server

pytestmark = [pytest.mark.slow, pytest.mark.postgres, backends.SHARES_CHECKOUT_VAR,
              pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL")]

LINK = "/v1/customers/initech/links/sam@acme.example"


@pytest.fixture
def replicas(tmp_path):
    """Replicas A and B, two workers each, sharing the emptied test PostgreSQL."""
    url = backends.postgres_url()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Server(tmp_path / "a", workers=2, env={"AUTHZ_DATABASE_URL": url})
    b = Server(tmp_path / "b", workers=2, env={"AUTHZ_DATABASE_URL": url})
    a.load_demo()
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


def subjects(server, action: str, customer: str) -> dict:
    """{email: via} of the subject search, walked two at a time."""
    found, token = {}, ""
    while True:
        status, body = server.call("POST", "/access/v1/search/subject", {
            "subject": {"type": "user"}, "action": {"name": action},
            "resource": {"type": "account", "id": customer}, "page": {"limit": 2, "token": token}})
        assert status == 200, body
        found |= {r["id"]: r["properties"]["via"] for r in body["results"]}
        token = body["page"]["next_token"]
        if not token:
            return found


def holders(server, action: str, customer: str) -> dict:
    """{email: via} of GET /v1/customers/{id}/access, read by acme's admin, two at a time."""
    found, cursor = {}, ""
    while True:
        status, body = server.call("GET", f"/v1/customers/{customer}/access?user=ada@acme.example"
                                          f"&action={action}&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        found |= {i["email"]: i["via"] for i in body["items"]}
        cursor = body["next_cursor"]
        if cursor is None:
            return found


def allowed(server, user: str, action: str, account: str) -> bool:
    status, body = server.call("POST", "/v1/authorize", {"user": user, "action": action, "account": account})
    assert status == 200, body
    return body["allowed"]


def on_both(a, b, user: str, action: str, customer: str) -> set:
    """How `user` holds `action` on `customer`, as each replica's search, /access and authorize say."""
    return {(s.port, "search", subjects(s, action, customer).get(user)) for s in (a, b)} | {
        (s.port, "access", holders(s, action, customer).get(user)) for s in (a, b)} | {
        (s.port, "authorize", allowed(s, user, action, customer)) for s in (a, b)}


def expect(a, b, kind: str, allowed_: bool) -> set:
    via = kind if allowed_ else None
    return {(s.port, k, v) for s in (a, b) for k, v in (("search", via), ("access", via), ("authorize", allowed_))}


def test_a_revoke_on_one_replica_is_in_the_others_search_at_once(replicas):
    """R4.6: sam's link revoked through A, then made again through B, several times; every read on
    either replica right after the call returns follows it (the facts caches warmed first)."""
    a, b = replicas
    assert on_both(a, b, "sam@acme.example", "port.view", "initech") == expect(a, b, "link", True)
    for first, second in ((a, b), (b, a), (a, b)):
        assert first.call("DELETE", LINK + "?user=ada@acme.example")[0] == 204
        assert on_both(second, first, "sam@acme.example", "port.view", "initech") == expect(a, b, "link", False)
        assert second.call("PUT", LINK, {"user": "ada@acme.example", "group": "support"})[0] == 201
        assert on_both(first, second, "sam@acme.example", "port.view", "initech") == expect(a, b, "link", True)


def test_a_promotion_on_one_replica_is_in_the_others_search_at_once(replicas):
    """R4.1, R4.9: sam (support, linked to Initech) made a partner admin through B acts there as
    partner admin on A at once; made support again through A, by the kept link on B at once."""
    a, b = replicas
    sam = "/v1/partners/acme/users/sam@acme.example"
    for first, second in ((b, a), (a, b)):
        assert first.call("PUT", sam, {"group": "admin"})[0] == 200
        assert on_both(second, first, "sam@acme.example", "port.view", "initech") == expect(
            a, b, "partner_admin", True)
        assert on_both(first, second, "sam@acme.example", "user.manage", "initech") == expect(
            a, b, "partner_admin", True)
        assert second.call("PUT", sam, {"group": "support"})[0] == 200
        assert on_both(first, second, "sam@acme.example", "port.view", "initech") == expect(a, b, "link", True)
        assert on_both(first, second, "sam@acme.example", "user.manage", "initech") == expect(a, b, "link", False)
