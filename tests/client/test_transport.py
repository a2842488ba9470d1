"""authz_client's HTTP: connections are reused, and only calls safe to repeat are repeated."""

import json
import threading

import pytest
from authz_client import AuthzClient, Unavailable, is_repeatable

from tests.support.server import free_port
from tests.support.stub import DROP, Stub

ADA = "ada@acme.example"

# (name, the call, its method and path): calls that change something, never sent twice.
WRITES = [
    ("create_service", lambda c: c.create_service("hooli", ADA, "svc-1", "port", 100),
     "POST", "/v1/customers/hooli/services"),
    ("delete_service", lambda c: c.delete_service("hooli", "svc-1", ADA),
     "DELETE", "/v1/customers/hooli/services/svc-1"),
    ("unlink", lambda c: c.unlink("hooli", "lee@acme.example", ADA),
     "DELETE", "/v1/customers/hooli/links/lee%40acme.example"),
    ("open_session", lambda c: c.open_session(ADA), "POST", "/v1/sessions"),
    ("close_session", lambda c: c.close_session("s-1"), "DELETE", "/v1/sessions/s-1"),
    ("patch", lambda c: c.call("PATCH", "/v1/customers/hooli/services/svc-1", {"user": ADA}),
     "PATCH", "/v1/customers/hooli/services/svc-1"),
]
# Calls safe to repeat: they read, decide without changing anything, or PUT (idempotent).
REPEATABLE = [
    ("authorize", lambda c: c.authorize(ADA, "port.view", "acme"), "POST", "/v1/authorize"),
    ("batch", lambda c: c.call("POST", "/v1/authorize/batch", {"user": ADA, "checks": []}),
     "POST", "/v1/authorize/batch"),
    ("accounts", lambda c: c.accounts(ADA, "port.view"), "POST", "/v1/authorize/accounts"),
    ("customers", lambda c: c.customers("acme", ADA), "GET", "/v1/partners/acme/customers"),
    ("links", lambda c: c.links("hooli", ADA), "GET", "/v1/customers/hooli/links"),
    ("link", lambda c: c.link("hooli", "lee@acme.example", ADA, group="support"),
     "PUT", "/v1/customers/hooli/links/lee%40acme.example"),
]


def client_of(stub: Stub, retries: int = 2) -> AuthzClient:
    return AuthzClient(stub.url, "key", timeout=5, retries=retries, backoff=0.001)


def test_many_calls_one_connection():
    """Sequential calls of every kind share one kept-alive TCP connection."""
    with Stub(lambda method, path, n: 204 if method == "DELETE" else 200) as stub:
        client = client_of(stub)
        for _ in range(20):
            assert client.authorize(ADA, "port.view", "acme")
            client.customers("acme", ADA)
            client.unlink("hooli", "lee@acme.example", ADA)
        assert len(stub.requests) == 60
        assert stub.connections == 1


def test_threads_share_the_pool():
    """Four threads making 25 calls each open at most one connection per thread, and reuse them."""
    with Stub() as stub:
        client = AuthzClient(stub.url, "key", timeout=5, pool_size=4)
        errors = []

        def decide():
            for _ in range(25):
                if not client.authorize(ADA, "port.view", "acme"):
                    errors.append("denied")

        threads = [threading.Thread(target=decide) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and len(stub.requests) == 100
        assert stub.connections <= 4


@pytest.mark.parametrize("status", [503, DROP], ids=["503-after-storing", "dropped-after-storing"])
@pytest.mark.parametrize(("name", "call", "method", "path"), WRITES, ids=[w[0] for w in WRITES])
def test_a_write_is_never_repeated(status, name, call, method, path):
    """The stub stores the write, then answers 503 (or drops the connection): the client sends
    it once and says the change may have happened."""
    with Stub(lambda *_: status) as stub:
        with pytest.raises(Unavailable) as caught:
            call(client_of(stub))
        assert stub.count(method, path) == 1
        assert caught.value.maybe_changed is True
        assert caught.value.status == (503 if status == 503 else None)


@pytest.mark.parametrize("status", [503, DROP], ids=["503", "dropped"])
@pytest.mark.parametrize(("name", "call", "method", "path"), REPEATABLE,
                         ids=[r[0] for r in REPEATABLE])
def test_a_call_safe_to_repeat_is_retried(status, name, call, method, path):
    """Two failures, then an answer: the third attempt's answer is the result."""
    with Stub(lambda m, p, n: status if n < 3 else 200) as stub:
        result = call(client_of(stub, retries=2))
        assert stub.count(method, path) == 3
        assert result or result == []  # a decision, a page, a link, []


def test_retries_stop_at_the_limit_and_fail_closed():
    """Always 503: 1 + retries attempts, then a fail-closed denial (a read changes nothing)."""
    with Stub(lambda *_: 503) as stub:
        decision = client_of(stub, retries=3).authorize(ADA, "port.view", "acme")
        assert not decision and decision.rule == "client:fail-closed"
        assert stub.count("POST", "/v1/authorize") == 4
        with pytest.raises(Unavailable) as caught:
            client_of(stub, retries=1).customers("acme", ADA)
        assert caught.value.maybe_changed is False
        assert stub.count("GET", "/v1/partners/acme/customers") == 2


def test_nothing_listening_changed_nothing():
    """A write whose connection could not be opened was never sent: maybe_changed is False."""
    client = AuthzClient(f"http://127.0.0.1:{free_port()}", "key", timeout=1, retries=1, backoff=0)
    with pytest.raises(Unavailable) as caught:
        client.create_service("hooli", ADA, "svc-1", "port", 100)
    assert caught.value.maybe_changed is False and caught.value.status is None


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/v1/sessions/s", True), ("HEAD", "/healthz", True), ("PUT", "/v1/users/x", True),
    ("POST", "/v1/authorize", True), ("POST", "/v1/authorize/batch", True),
    ("POST", "/v1/authorize/accounts", True), ("POST", "/access/v1/evaluation", True),
    ("POST", "/v1/sessions", False), ("POST", "/v1/customers/c/services", False),
    ("POST", "/v1/invites/i/accept", False), ("POST", "/v1/accounts/a/logins", False),
    ("PATCH", "/v1/customers/c/services/s", False), ("DELETE", "/v1/users/x", False),
    ("post", "/v1/authorize", True), ("delete", "/v1/sessions/s", False),
])
def test_which_calls_are_repeatable(method, path, expected):
    """The contract's rule, call by call (API.md: PUT is idempotent; a second DELETE is 404)."""
    assert is_repeatable(method, path) is expected


def test_link_sends_an_end_only_when_given():
    """R10.1: `expires_at` goes in the PUT's body when given; left out, the link keeps its own."""
    with Stub() as stub:
        client = client_of(stub)
        client.link("hooli", "lee@acme.example", ADA, expires_at="2027-01-01T00:00:00Z")
        client.link("hooli", "lee@acme.example", ADA)
    (_, _, with_end), (_, _, without) = stub.requests
    assert json.loads(with_end) == {"user": ADA, "expires_at": "2027-01-01T00:00:00Z"}
    assert json.loads(without) == {"user": ADA}
