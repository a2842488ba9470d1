"""Mail for requests for access (R10.2) over a real SMTP server: one mail per admin contact per
request, through an SMTP outage and a restart of the service (as R8.3's tests)."""

from collections import Counter

import pytest

from authz_service import store
from authz_service.mail import sender as mailer
from authz_service.store import fixtures
from tests.support.auth import bearer
from tests.support.smtp import Clock, Mailbox, SmtpServer, make_app

ADMINS = ["olga@acme.example", "omar@acme.example"]
CONTACTS = [("acme", "olga@acme.example", "admin"), ("acme", "omar@acme.example", "admin"),
            ("acme", "bill@acme.example", "billing"), ("globex", "gwen@globex.example", "admin")]


def ask(client, user: str, customer: str) -> str:
    response = client.post(f"/v1/customers/{customer}/access-requests", headers=bearer(),
                           json={"user": user, "reason": "Incident <42> & co", "duration_hours": 4})
    assert response.status_code == 201, response.json
    return response.json["request_id"]


@pytest.fixture
def smtp():
    server = SmtpServer(Mailbox())
    yield server
    server.stop()


def test_one_mail_per_admin_contact_per_request_through_an_outage_and_a_restart(database_url, smtp):
    """R10.2, R8.3: two requests made while the SMTP server is down, retried, the service restarted
    (a new app and sender), the server back: each admin contact of the partner gets each request
    once (no billing contact, no other partner's admin), every Message-ID once."""
    clock = Clock()
    first = make_app(database_url, smtp.url)
    with store.connection():
        fixtures.load()
    client = first.test_client()
    for partner, email, kind in CONTACTS:
        assert client.put(f"/v1/partners/{partner}/contacts/{email}", json={"name": email.split("@")[0].title(),
                          "type": kind}, headers=bearer()).status_code == 201
    asked = [ask(client, "reggie@acme.example", "hooli"), ask(client, "rita@acme.example", "initech")]
    clock.advance(5)
    assert mailer.Sender(first.config["AUTHZ"], clock=clock).run_once() == 4  # all retried: server down
    store.close()
    smtp.start()
    second = make_app(database_url, smtp.url)
    sender = mailer.Sender(second.config["AUTHZ"], clock=clock)
    clock.advance(60)
    assert sender.drain() == 4
    clock.advance(7200)
    assert sender.drain() == 0
    received = smtp.mailbox.received()
    assert len(set(received)) == len(received)
    assert Counter(rcpt for rcpt, _ in received) == Counter({a: 2 for a in ADMINS})
    mails = smtp.mailbox.to("olga@acme.example")
    assert sorted(m["Subject"] for m in mails) == [
        "Access requested: reggie@acme.example for Hooli (hooli)",
        "Access requested: rita@acme.example for Initech (initech)"]
    text = mails[0].get_body(("plain",)).get_content()
    assert "Incident <42> & co" in text and any(r in text for r in asked) and "Hello Olga" in text
    assert "Incident &lt;42&gt; &amp; co" in mails[0].get_body(("html",)).get_content()
    store.close()
