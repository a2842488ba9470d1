"""authz_client against a live server: decisions, require, retries, fail closed."""


import pytest
from authz_client import AuthzClient, AuthzError, Forbidden
from authz_client.flask import requires
from flask import Flask, g

from tests.support.server import KEY, Server, free_port
from tests.support.stub import Stub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("client"), workers=1)
    running.load_demo()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def client(server):
    return AuthzClient(f"http://127.0.0.1:{server.port}", KEY, timeout=5)


def test_authorize_and_require(client):
    """A decision is truthy when allowed; require raises Forbidden with the decision on deny."""
    allowed = client.authorize("rita@acme.example", "port.create", "initech")
    assert allowed and allowed.group == "regular" and allowed.decision_id
    denied = client.authorize("rita@acme.example", "port.create", "hooli")
    assert not denied and denied.group is None
    assert client.require("ada@acme.example", "user.manage", "initech").allowed
    with pytest.raises(Forbidden) as caught:
        client.require("sam@acme.example", "port.create", "initech")
    assert caught.value.decision.rule.startswith("policies/")


def test_batch_accounts_links_and_sessions(client):
    """Batch in order, every account over pages, a link round trip, a session bound to a customer."""
    results = client.batch("sam@acme.example", [{"action": "port.edit", "account": "initech"},
                                                {"action": "port.edit", "account": "hooli"}])
    assert [bool(r) for r in results] == [True, False]
    assert client.accounts("ada@acme.example", "port.view", page_size=1) == ["acme", "hooli", "initech", "umbrella"]
    client.link("hooli", "lee@acme.example", "ada@acme.example", group="read_only")
    assert ("lee@acme.example", "read_only") in [(x["email"], x["group"]) for x in client.links("hooli", "ada@acme.example")]
    session = client.open_session("lee@acme.example", "hooli")
    assert client.authorize("lee@acme.example", "port.view", session=session)
    client.unlink("hooli", "lee@acme.example", "ada@acme.example")
    assert not client.authorize("lee@acme.example", "port.view", session=session)
    client.close_session(session)


def test_services_through_the_client(client):
    """Report a service and delete it; a caller without the right gets AuthzError 403."""
    client.create_service("hooli", "ada@acme.example", "svc-client", "port", 4200)
    with pytest.raises(AuthzError) as caught:
        client.delete_service("hooli", "svc-client", "lee@acme.example")
    assert caught.value.status == 403
    client.delete_service("hooli", "svc-client", "ada@acme.example")
    page = client.customers("acme", "ada@acme.example")
    assert [row["ports"] for row in page["items"] if row["customer_id"] == "hooli"] == [0]


def test_errors_the_caller_must_fix_are_raised(client):
    """An unknown action is the caller's bug: AuthzError 400, not a silent deny."""
    with pytest.raises(AuthzError) as caught:
        client.authorize("ada@acme.example", "port.fly", "acme")
    assert caught.value.status == 400 and caught.value.code == "unknown_action"


def test_unreachable_service_is_a_deny(tmp_path):
    """Fail closed: nothing listens; authorize denies, require raises Forbidden, no other exception."""
    dead = AuthzClient(f"http://127.0.0.1:{free_port()}", KEY, timeout=0.5, retries=1, backoff=0.01)
    decision = dead.authorize("ada@acme.example", "port.view", "acme")
    assert not decision and decision.rule == "client:fail-closed"
    with pytest.raises(Forbidden):
        dead.require("ada@acme.example", "port.view", "acme")
    assert [bool(d) for d in dead.batch("ada@acme.example", [{"action": "port.view", "account": "acme"}])] == [False]
    assert dead.accounts("ada@acme.example", "port.view") == []


def test_a_stopped_server_is_a_deny(tmp_path):
    """Fail closed against the real service: allowed while up, denied once it is stopped."""
    running = Server(tmp_path, workers=1)
    running.load_demo()
    running.start()
    client = AuthzClient(f"http://127.0.0.1:{running.port}", KEY, timeout=1, retries=1, backoff=0.01)
    assert client.authorize("ada@acme.example", "port.view", "acme")
    running.stop()
    assert not client.authorize("ada@acme.example", "port.view", "acme")


def test_retries_on_503_then_succeeds():
    """A 503 is retried with backoff; the third answer counts."""
    with Stub(lambda method, path, n: 503 if n < 3 else 200) as stub:
        client = AuthzClient(stub.url, KEY, retries=2, backoff=0.01)
        assert client.authorize("ada@acme.example", "port.view", "acme")
        assert stub.count("POST", "/v1/authorize") == 3


def test_flask_decorator(client):
    """@requires guards a calling service's view: allowed runs it, denied answers 403."""
    app = Flask("caller")
    app.extensions["authz_client"] = client

    @app.before_request
    def who():
        from flask import request

        g.authz_user = request.headers.get("X-User")

    @app.post("/customers/<customer_id>/ports")
    @requires("port.create", account="customer_id")
    def create_port(customer_id):
        return {"created": customer_id, "by": g.authz_decision.group}

    web = app.test_client()
    ok = web.post("/customers/initech/ports", headers={"X-User": "rita@acme.example"})
    assert ok.status_code == 200 and ok.json == {"created": "initech", "by": "regular"}
    refused = web.post("/customers/initech/ports", headers={"X-User": "sam@acme.example"})
    assert refused.status_code == 403 and refused.json["error"]["details"]["decision_id"]
    assert web.post("/customers/initech/ports").status_code == 403
