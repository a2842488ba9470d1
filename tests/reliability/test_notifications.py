"""Service mail to admin contacts over a real SMTP server (R8): once each, through outages and restarts."""

import signal
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from authz_service import cli, store
from authz_service.app import start
from authz_service.mail import notifications
from authz_service.mail import sender as mailer
from authz_service.mail import smtp as mail_transport
from authz_service.store import fixtures, models, outbox
from tests.support.auth import bearer
from tests.support.server import Server
from tests.support.smtp import Clock, Mailbox, SmtpServer, make_app
from tests.support.soak import tally

ADMINS = ["olga@acme.example", "omar@acme.example"]
CONTACTS = [("acme", "olga@acme.example", "admin"), ("acme", "omar@acme.example", "admin"),
            ("acme", "bill@acme.example", "billing"), ("acme", "tess@acme.example", "technical"),
            ("globex", "gwen@globex.example", "admin")]


def add_contacts(client, contacts=CONTACTS) -> None:
    for partner, email, type_ in contacts:
        response = client.put(f"/v1/partners/{partner}/contacts/{email}",
                              json={"name": email.split("@")[0].title(), "type": type_}, headers=bearer())
        assert response.status_code == 201, response.json


def event(event_id: str, kind="provisioned", partner="acme", customer="initech", name="Initech",
          actor="ian@initech.example", on_behalf=None) -> dict:
    return {"event_id": event_id, "event": kind, "partner_id": partner, "customer_id": customer,
            "customer_name": name, "service_id": f"svc-{event_id}", "service_kind": "port",
            "monthly_price_cents": 12345, "actor": actor, "on_behalf_of_partner": on_behalf,
            "at": datetime(2026, 11, 24, 12, 0, 5)}


def enqueue(*events: dict) -> None:
    """Queue events the way a service change does: inside its transaction."""
    with store.connection(), models.database.atomic():
        for one in events:
            notifications.enqueue_service_event(one)


def rows(event_id: str) -> list[dict]:
    with store.connection():
        query = models.Notification.select(*outbox.PUBLIC).where(models.Notification.event_id == event_id)
        return list(query.order_by(models.Notification.email).dicts())


def assert_once_each(mailbox: Mailbox, expected: Counter) -> None:
    """Every expected (recipient -> count) delivered, no Message-ID twice, nothing else."""
    received = mailbox.received()
    assert len(set(received)) == len(received), Counter(received).most_common(3)
    assert Counter(rcpt for rcpt, _ in received) == expected


@pytest.fixture
def smtp():
    """A real SMTP server, down until the test starts it."""
    server = SmtpServer(Mailbox(refuse=["nobody@acme.example"], defer=["busy@acme.example"]))
    yield server
    server.stop()


@pytest.fixture
def service(database_url, smtp):
    """The service with the demo data and the contacts, mail going to `smtp`."""
    app = make_app(database_url, smtp.url)
    with store.connection():
        fixtures.load()
    add_contacts(app.test_client())
    yield app
    store.close()


def test_each_admin_contact_gets_each_event_once(service, smtp):
    """R8.1: a provision by a customer user and a deletion by a partner user on its behalf reach
    every admin contact once; no billing or technical contact; no other partner's contact."""
    smtp.start()
    enqueue(event("p1", name="Initech <R&D>"),
            event("d1", kind="deleted", actor="ada@acme.example", on_behalf="acme"))
    assert mailer.Sender(service.config["AUTHZ"]).drain() == 4
    assert mailer.Sender(service.config["AUTHZ"]).drain() == 0
    assert_once_each(smtp.mailbox, Counter({a: 2 for a in ADMINS}))
    provisioned, deleted = smtp.mailbox.to("olga@acme.example")
    assert provisioned["Subject"] == "Service provisioned: port svc-p1 for Initech <R&D>"
    text = provisioned.get_body(("plain",)).get_content()
    for fact in ["ian@initech.example", "Initech <R&D> (initech)", "svc-p1 (port)", "123.45",
                 "2026-11-24 12:00:05 UTC", "Hello Olga"]:
        assert fact in text
    assert "On behalf of" not in text
    page = provisioned.get_body(("html",)).get_content()
    assert "Initech &lt;R&amp;D&gt;" in page and "<R&D>" not in page
    assert deleted["Subject"].startswith("Service deleted: port svc-d1")
    assert "On behalf of:   Initech, by a user of partner acme" in deleted.get_body(("plain",)).get_content()
    assert "ada@acme.example" in deleted.get_body(("plain",)).get_content()
    assert {r["status"] for r in rows("p1") + rows("d1")} == {"sent"}


def test_service_calls_queue_mail_with_the_change(service, smtp):
    """R8.1 end to end: POST by a customer user and DELETE by a partner user on its behalf mail
    every admin contact once; a denied call changes nothing and mails no one."""
    smtp.start()
    client, path = service.test_client(), "/v1/customers/initech/services"
    denied = client.post(path, json={"user": "iris@initech.example", "service_id": "svc-no",
                                     "kind": "port", "monthly_price_cents": 100}, headers=bearer())
    assert denied.status_code == 403
    made = client.post(path, json={"user": "ian@initech.example", "service_id": "svc-9",
                                   "kind": "cloud_hosted", "monthly_price_cents": 9900}, headers=bearer())
    assert made.status_code == 201, made.json
    gone = client.delete(f"{path}/svc-9", query_string={"user": "ada@acme.example"}, headers=bearer())
    assert gone.status_code == 204, gone.json
    assert mailer.Sender(service.config["AUTHZ"]).drain() == 4
    assert_once_each(smtp.mailbox, Counter({a: 2 for a in ADMINS}))
    provisioned, deleted = smtp.mailbox.to("omar@acme.example")
    assert provisioned["Subject"] == "Service provisioned: cloud_hosted svc-9 for Initech"
    assert "ian@initech.example" in provisioned.get_body(("plain",)).get_content()
    assert "99.00" in provisioned.get_body(("plain",)).get_content()
    text = deleted.get_body(("plain",)).get_content()
    assert "ada@acme.example" in text and "by a user of partner acme" in text


def test_server_down_then_back_every_mail_arrives_once(service, smtp):
    """R8.3: while the server is down mail is kept and retried with exponential backoff; when it
    is back every mail arrives, once."""
    clock = Clock()
    sender = mailer.Sender(service.config["AUTHZ"], clock=clock)
    enqueue(event("a"), event("b"))
    assert sender.run_once() == 4
    assert all(r["status"] == "pending" and r["attempts"] == 1 and "cannot reach" in r["last_error"]
               and r["next_attempt_at"] == clock.now + timedelta(seconds=60) for r in rows("a"))
    assert sender.run_once() == 0  # not due before its backoff
    clock.advance(60)
    assert sender.run_once() == 4
    assert {r["next_attempt_at"] - clock.now for r in rows("b")} == {timedelta(seconds=120)}
    enqueue(event("c"))  # a new event while the server is still down
    smtp.start()
    clock.advance(120)
    assert sender.drain() == 6
    clock.advance(7200)
    assert sender.drain() == 0
    tally("smtp down then back", requests=6, faults=2,
          lost=6 - len(set(smtp.mailbox.received())))
    assert_once_each(smtp.mailbox, Counter({a: 3 for a in ADMINS}))
    assert [r["attempts"] for r in rows("a")] == [3, 3]


def test_restart_while_mail_is_pending(database_url, smtp):
    """R8.3: a restart (new app, new sender) sends what was pending; a crashed sender's leased
    rows wait for the lease to end, then go out once."""
    clock = Clock()
    first = make_app(database_url, smtp.url, mail_lease_seconds=300)
    with store.connection():
        fixtures.load()
    add_contacts(first.test_client())
    enqueue(event("a"))
    assert mailer.Sender(first.config["AUTHZ"], clock=clock).run_once() == 2  # server down
    enqueue(event("z"))
    with store.connection():  # a sender that claimed these, then died before sending
        assert len(outbox.claim("crashed", clock.now, clock.now + timedelta(seconds=300), 10)) == 2
    store.close()
    smtp.start()
    second = make_app(database_url, smtp.url, mail_lease_seconds=300)
    sender = mailer.Sender(second.config["AUTHZ"], clock=clock)
    clock.advance(60)
    assert sender.drain() == 2
    assert_once_each(smtp.mailbox, Counter({a: 1 for a in ADMINS}))
    clock.advance(241)
    assert sender.drain() == 2
    assert_once_each(smtp.mailbox, Counter({a: 2 for a in ADMINS}))
    store.close()


def test_a_slow_batch_gives_back_what_it_cannot_send_before_half_its_lease(service, smtp):
    """R8.3: a sender stops starting messages once half its lease is gone and releases the rest
    unsent, so no lease runs out mid-send (which could let a second sender send it too)."""

    class SlowClock(Clock):
        def __call__(self):
            self.advance(40)  # each look at the clock: 40 s later (lease 300 s: 150 s to send)
            return self.now

    smtp.start()
    enqueue(event("s1"), event("s2"))
    clock = SlowClock()
    assert mailer.Sender(service.config["AUTHZ"], clock=clock).run_once() == 4
    assert len(smtp.mailbox.received()) == 2
    assert [(r["status"], r["attempts"]) for r in rows("s2")] == [("pending", 0)] * 2
    assert mailer.Sender(service.config["AUTHZ"], clock=Clock()).drain() == 2  # not leased
    assert_once_each(smtp.mailbox, Counter({a: 2 for a in ADMINS}))


def test_concurrent_senders_never_send_twice(service, smtp):
    """R8.3: four senders draining one outbox at once deliver each mail exactly once."""
    smtp.start()
    enqueue(*[event(f"e{n}") for n in range(25)])
    senders = [mailer.Sender(service.config["AUTHZ"], batch=3) for _ in range(4)]
    threads = [threading.Thread(target=s.drain) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert_once_each(smtp.mailbox, Counter({a: 25 for a in ADMINS}))
    with store.connection():
        assert outbox.depth("pending") == 0 and outbox.depth("sent") == 50


def test_a_retry_after_an_unclear_failure_keeps_the_message_id(service, smtp):
    """R8.3: the server kept a mail but answered 451; the retry carries the same Message-ID,
    so the mailbox sees one message, not a second one."""
    smtp.mailbox.unclear = 1
    smtp.start()
    clock = Clock()
    sender = mailer.Sender(service.config["AUTHZ"], clock=clock)
    enqueue(event("u"))
    assert sender.run_once() == 2
    clock.advance(60)
    assert sender.drain() == 1
    received = smtp.mailbox.received()
    assert len(received) == 3 and len(set(received)) == 2
    assert Counter(rcpt for rcpt, _ in set(received)) == Counter(ADMINS)
    assert sorted(r["attempts"] for r in rows("u")) == [1, 2]


def test_bad_and_refused_addresses_fail_alone(service, smtp):
    """R8.3: an address smtplib cannot send to, a malformed one (553) and a refused one (550)
    are kept as failed; a 450 is retried; the other admin contacts still get theirs."""
    smtp.start()
    bad = ["a@acme..example", "busy@acme.example", "jörg@acme.example", "nobody@acme.example"]
    add_contacts(service.test_client(), [("acme", email, "admin") for email in bad])
    enqueue(event("x"))
    assert mailer.Sender(service.config["AUTHZ"]).drain() == 6
    assert_once_each(smtp.mailbox, Counter(ADMINS))
    listed = service.test_client().get("/v1/partners/acme/notifications", headers=bearer()).json
    by_email = {item["email"]: item for item in listed["items"]}
    assert {e: by_email[e]["status"] for e in by_email} == {
        "a@acme..example": "failed", "busy@acme.example": "pending", "jörg@acme.example": "failed",
        "nobody@acme.example": "failed", "olga@acme.example": "sent", "omar@acme.example": "sent"}
    assert "553" in by_email["a@acme..example"]["last_error"]
    assert "SMTPUTF8" in by_email["jörg@acme.example"]["last_error"]
    assert "550" in by_email["nobody@acme.example"]["last_error"]
    assert "450" in by_email["busy@acme.example"]["last_error"]
    assert all(by_email[e]["attempts"] == 1 for e in by_email)


def test_the_thread_started_with_the_service_sends(database_url, smtp):
    """R8.3: with AUTHZ_SMTP_URL set, start(app) starts a sender thread (as each `authz serve`
    worker does); /readyz says configured."""
    smtp.start()
    app = start(make_app(database_url, smtp.url, mail_poll_seconds=0.1))
    try:
        with store.connection():
            fixtures.load()
        add_contacts(app.test_client())
        assert app.test_client().get("/readyz").json["mail"] == "configured"
        enqueue(event("t"))
        smtp.mailbox.wait_for(2, seconds=10)
        assert_once_each(smtp.mailbox, Counter(ADMINS))
    finally:
        app.extensions["authz"].mailer.stop()
        app.extensions["authz"].sweeper.stop()
        store.close()


def test_authz_worker_runs_the_sender_alone(service, smtp, database_url):
    """docs/api.md Running: `authz worker` delivers the outbox; without AUTHZ_SMTP_URL it refuses."""
    smtp.start()
    enqueue(event("w"))
    env = {"AUTHZ_DATABASE_URL": database_url, "AUTHZ_SMTP_URL": smtp.url}
    result = CliRunner().invoke(cli.main, ["worker", "--once"], env=env)
    assert result.exit_code == 0 and "handled 2" in result.output, result.output
    assert_once_each(smtp.mailbox, Counter(ADMINS))
    result = CliRunner().invoke(cli.main, ["worker"], env={**env, "AUTHZ_SMTP_URL": ""})
    assert result.exit_code != 0 and "AUTHZ_SMTP_URL" in result.output


def test_outbox_rules():
    """R8.3: the same Message-ID for each attempt, backoff doubling to a cap, SMTP URLs parsed."""
    one = notifications.message_id("e1", "olga@acme.example", "Portal <authz@portal.example>")
    assert one == notifications.message_id("e1", "olga@acme.example", "authz@portal.example")
    assert one.endswith("@portal.example>")
    assert one != notifications.message_id("e1", "omar@acme.example", "authz@portal.example")
    assert [mailer.backoff(n, 30, 200) for n in range(1, 6)] == [30, 60, 120, 200, 200]
    assert mail_transport.parse_smtp_url("smtp://mx.example:2525") == mail_transport.SmtpTarget(
        "mx.example", 2525, False, False, None, None)
    assert mail_transport.parse_smtp_url("smtp://u%40x:p%3Aw@mx.example?starttls=true") == mail_transport.SmtpTarget(
        "mx.example", 25, False, True, "u@x", "p:w")
    assert mail_transport.parse_smtp_url("smtps://mx.example").port == 465
    with pytest.raises(ValueError):
        mail_transport.parse_smtp_url("http://mx.example")


def test_enqueue_joins_the_callers_transaction(service):
    """R8.3: queued with the service change or not at all; an event is queued once per contact."""
    with pytest.raises(RuntimeError), store.connection():
        notifications.enqueue_service_event(event("n"))
    with store.connection(), pytest.raises(ZeroDivisionError), models.database.atomic():
        notifications.enqueue_service_event(event("r"))
        raise ZeroDivisionError  # the service change failed: no mail either
    enqueue(event("twice"), event("twice"), event("soy", partner="globex", customer="soylent"))
    assert rows("n") == [] and rows("r") == []
    assert [r["email"] for r in rows("twice")] == ADMINS
    assert [r["email"] for r in rows("soy")] == ["gwen@globex.example"]


@pytest.mark.slow
def test_killed_server_restarts_and_sends_pending_mail_once(tmp_path):
    """R8.3: a real `authz serve` (2 workers, 2 senders) is killed with mail pending while the SMTP
    server is down; after both come back, every mail arrives once."""
    smtp = SmtpServer()
    env = {"AUTHZ_SMTP_URL": smtp.url, "AUTHZ_MAIL_POLL_SECONDS": "0.2", "AUTHZ_POLICY_POLL_SECONDS": "0",
           "AUTHZ_MAIL_RETRY_SECONDS": "0.2", "AUTHZ_MAIL_RETRY_MAX_SECONDS": "0.5",
           "AUTHZ_MAIL_LEASE_SECONDS": "2"}
    servers = [Server(tmp_path, env=env)]
    try:
        servers[0].load_demo()
        servers[0].start()
        for partner, email, type_ in CONTACTS:
            assert servers[0].call("PUT", f"/v1/partners/{partner}/contacts/{email}",
                                   {"name": "N", "type": type_})[0] == 201
        store.connect(servers[0].env["AUTHZ_DATABASE_URL"])
        enqueue(event("k1"), event("k2", kind="deleted", actor="ada@acme.example", on_behalf="acme"),
                event("k3", partner="globex", customer="soylent", actor="sol@soylent.example"))
        _wait(lambda: all(i["attempts"] >= 2 for i in _items(servers[0])) and len(_items(servers[0])) == 5)
        servers[0].stop(signal.SIGKILL)
        smtp.start()
        servers.append(Server(tmp_path, env=env).start())
        smtp.mailbox.wait_for(5, seconds=15)
        _wait(lambda: {i["status"] for i in _items(servers[1])} == {"sent"})
        time.sleep(1.0)  # time for a second copy to show up, if any sender were to send one
        assert_once_each(smtp.mailbox, Counter({**{a: 2 for a in ADMINS}, "gwen@globex.example": 1}))
    finally:
        for server in servers:
            server.stop(signal.SIGKILL)
        smtp.stop()
        store.close()


def _items(server: Server) -> list[dict]:
    items = []
    for partner in ("acme", "globex"):
        status, body = server.call("GET", f"/v1/partners/{partner}/notifications")
        assert status == 200, body
        items += body["items"]
    return items


def _wait(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
