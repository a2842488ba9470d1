"""View sessions: acting on behalf of one customer at a time (R6.1-R6.3), over HTTP."""

from datetime import timedelta

from authz_service import store
from authz_service.store import directory
from authz_service.store.models import Decision, ViewSession, utcnow
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store


def open_session(client, user="rita@acme.example") -> str:
    response = client.post("/v1/sessions", json={"user": user}, headers=bearer())
    assert response.status_code == 201, response.json
    return response.json["session_id"]


def bind(client, session_id, customer):
    return client.put(f"/v1/sessions/{session_id}/customer", json={"customer_id": customer},
                      headers=bearer())


def test_bind_and_rebind_one_customer_at_a_time(client, api):
    """R6.1: binding replaces the earlier binding; one customer per session."""
    session_id = open_session(client)
    response = bind(client, session_id, "initech")
    assert response.status_code == 200
    assert (response.json["customer_id"], response.json["group"]) == ("initech", "regular")
    assert api.allowed("rita@acme.example", "port.create", None, session=session_id)
    assert bind(client, session_id, "umbrella").json["group"] == "support"
    read = client.get(f"/v1/sessions/{session_id}", headers=bearer()).json
    assert (read["customer_id"], read["group"], read["user"]) == ("umbrella", "support", "rita@acme.example")
    assert not api.allowed("rita@acme.example", "port.view", "initech", session=session_id)


def test_cannot_bind_a_customer_the_user_does_not_see(client):
    """R6.1: 403 for a customer outside the user's sight; the binding stays as it was."""
    session_id = open_session(client)
    bind(client, session_id, "initech")
    for customer in ("hooli", "soylent"):
        response = bind(client, session_id, customer)
        assert response.status_code == 403 and response.json["error"]["details"]["decision_id"]
    assert client.get(f"/v1/sessions/{session_id}", headers=bearer()).json["customer_id"] == "initech"


def test_decisions_use_the_bound_customer(client, api):
    """R6.2: through the session, the bound customer with the user's group there; others denied."""
    session_id = open_session(client, "sam@acme.example")
    bind(client, session_id, "initech")
    body = api.authorize("sam@acme.example", "port.edit", session=session_id).json
    assert body["allowed"] and body["group"] == "support"
    assert not api.allowed("sam@acme.example", "port.view", "acme", session=session_id)
    assert not api.allowed("ada@acme.example", "port.view", "initech", session=session_id)


def test_unbound_session_decides_nothing(client, api):
    """R6.2: a session bound to no customer allows nothing."""
    session_id = open_session(client, "ada@acme.example")
    assert not api.allowed("ada@acme.example", "port.view", "initech", session=session_id)
    assert not api.authorize("ada@acme.example", "port.view", session=session_id).json["allowed"]


def test_revoked_link_ends_the_session_access(client, api):
    """R6.3: after the link is revoked the next decision through the session is denied."""
    session_id = open_session(client, "sam@acme.example")
    bind(client, session_id, "initech")
    client.delete("/v1/customers/initech/links/sam@acme.example",
                  query_string={"user": "ada@acme.example"}, headers=bearer())
    body = api.authorize("sam@acme.example", "port.view", session=session_id).json
    assert body["allowed"] is False and body["group"] is None
    assert client.get(f"/v1/sessions/{session_id}", headers=bearer()).json["group"] is None


def test_sessions_expire(client, api):
    """R6: sessions end after their lifetime (12 hours by default); then 404 and denial."""
    session_id = open_session(client)
    bind(client, session_id, "initech")
    with store.connection():
        row = ViewSession.get_by_id(session_id)
        assert timedelta(hours=11, minutes=59) < row.expires_at - utcnow() <= timedelta(hours=12)
        ViewSession.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert_error(client.get(f"/v1/sessions/{session_id}", headers=bearer()), 404, "not_found")
    assert not api.allowed("rita@acme.example", "port.view", None, session=session_id)


def test_delete_and_unknown(client):
    """docs/api.md: DELETE 204 then 404; unknown sessions, users and customers are 404."""
    session_id = open_session(client)
    assert client.delete(f"/v1/sessions/{session_id}", headers=bearer()).status_code == 204
    assert client.delete(f"/v1/sessions/{session_id}", headers=bearer()).status_code == 404
    assert client.post("/v1/sessions", json={"user": "nobody@x.example"}, headers=bearer()).status_code == 404
    assert bind(client, open_session(client), "nowhere").status_code == 404


def test_binding_is_recorded_in_the_customers_log(client):
    """R7.2: opening a customer's view is a decision in that customer's log, on behalf of the partner."""
    session_id = open_session(client)
    bind(client, session_id, "initech")
    with synced_store():
        row = Decision.select().where(Decision.resource_type == "session").get()
    assert (row.log_account, row.on_behalf_of_partner, row.action) == ("initech", "acme", "account.view")


def test_deleting_a_user_ends_their_sessions(client, api):
    """R6.1, docs/api.md DELETE /v1/users: a user's view sessions go with the user, so one re-created
    under the same email (and linked again) does not inherit a session bound to a customer."""
    session_id = open_session(client, "sam@acme.example")
    assert bind(client, session_id, "initech").status_code == 200
    assert client.delete("/v1/users/sam@acme.example", headers=bearer()).status_code == 204
    assert client.get(f"/v1/sessions/{session_id}", headers=bearer()).status_code == 404
    with store.connection():
        assert not ViewSession.select().where(ViewSession.user_email == "sam@acme.example").exists()
    again = client.put("/v1/partners/acme/users/sam@acme.example", json={"group": "support"},
                       headers=bearer())
    assert again.status_code == 201, again.json
    with store.connection():
        directory.put_link("sam@acme.example", "initech", "support")  # linked again, as before
    assert not api.allowed("sam@acme.example", "port.view", None, session=session_id)
    assert client.put(f"/v1/sessions/{session_id}/customer", json={"customer_id": "initech"},
                      headers=bearer()).status_code == 404
