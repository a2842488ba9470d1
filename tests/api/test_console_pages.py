"""The console's Mail outbox, Keys and Why pages with the Flask client on both databases (decision
036): each outbox state with its reason, keys never stronger than the console key, hostile ids."""

import re

from authz_service import store
from authz_service.store.models import Notification, utcnow
from tests.support.auth import BOOTSTRAP
from tests.support.console import csrf, make_key, sign_in

ROW = re.compile(r"<tr><td><time[^>]*>[^<]*</time></td><td>([^<]*)</td><td>[^<]*</td>\s*<td[^>]*>([^<]*)</td>"
                 r"<td class=\"num\">(\d+)</td>.*?<td>([^<]*)</td></tr>", re.S)


def _mail(email: str, status: str, attempts: int, error: str | None) -> dict:
    return {"event_id": f"e-{email}", "event": "provisioned", "partner": "acme", "customer_id": "initech",
            "service_id": "svc-1", "email": email, "subject": "Port svc-1 provisioned", "body_text": "",
            "body_html": "", "status": status, "attempts": attempts, "last_error": error,
            "sent_at": utcnow() if status == "sent" else None}


def test_outbox_shows_pending_retrying_sent_failed_and_the_reason(client):
    """R8.3: a pending mail after a failed attempt reads "retrying"; a failed one gives its reason;
    a hostile reason is shown as text, never as markup."""
    with store.connection():
        Notification.insert_many([_mail("a@acme.example", "pending", 0, None),
                                  _mail("b@acme.example", "pending", 2, "421 try later"),
                                  _mail("c@acme.example", "sent", 1, None),
                                  _mail("d@acme.example", "failed", 8, "550 <b>no such user</b>")]).execute()
    sign_in(client, BOOTSTRAP)
    page = client.get("/console/outbox?partner=acme").get_data(as_text=True)
    assert [r for r in ROW.findall(page)] == [
        ("d@acme.example", "failed", "8", "550 &lt;b&gt;no such user&lt;/b&gt;"),
        ("c@acme.example", "sent", "1", ""), ("b@acme.example", "retrying", "2", "421 try later"),
        ("a@acme.example", "pending", "0", "")]
    only = client.get("/console/outbox?partner=acme&status=failed").get_data(as_text=True)
    assert [r[0] for r in ROW.findall(only)] == ["d@acme.example"]


def test_a_console_key_never_makes_or_revokes_a_stronger_key(client):
    """Keys: manage+audit cannot give decide, nor revoke a key holding it; nothing changes."""
    strong = make_key("service-a", ["decide"])
    assert sign_in(client, make_key("admin", ["audit", "manage"])).status_code == 302
    token = csrf(client)
    made = client.post("/console/keys/create", data={"csrf_token": token, "name": "x", "scope": ["audit", "decide"],
                                                     "expires_in_days": "7"})
    assert made.status_code == 422 and "cannot give a scope it lacks: decide" in made.get_data(as_text=True)
    assert "azk_" not in made.get_data(as_text=True)
    client.post("/console/keys/revoke", data={"csrf_token": token, "name": "service-a"})
    page = client.get("/console/keys").get_data(as_text=True)
    assert "holds decide, which this console key lacks" in page
    assert client.get("/v1/decisions", headers={"Authorization": f"Bearer {strong}"}).status_code == 403  # live: wrong scope, not 401
    for name in ("", "a b", "x" * 101, "<script>"):
        bad = client.post("/console/keys/create", data={"csrf_token": token, "name": name, "scope": "audit",
                                                        "expires_in_days": "7"})
        assert bad.status_code == 422, name


def test_why_refuses_odd_ids_and_unknown_users_with_words(client):
    """A malformed, over-long or unknown decision id, an unknown action or user: said, never a 500."""
    sign_in(client, BOOTSTRAP)
    for query, said in (("decision_id=%3Cscript%3E", "is not a decision id"), ("decision_id=" + "a" * 65, "is not a decision id"),
                        ("decision_id=abc", "No recorded decision"),
                        ("user=x@acme.example&action=port.fly&account=initech", "is not an action"),
                        ("user=ghost@acme.example&action=port.view&account=initech", "No user")):
        response = client.get(f"/console/why?{query}")
        assert response.status_code == 200 and said in response.get_data(as_text=True), query
