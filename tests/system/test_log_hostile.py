"""Must-hold 1 of the adversarial suite (R7.4; docs/decisions/013-log-values.md): a burst of
hostile requests against `authz serve` on PostgreSQL, across the link, invite, authorize and
directory endpoints, never stops the log: no 500 and no 503, every acknowledged decision is
stored, nothing is set aside, and `authz log verify` passes."""

import itertools
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import psycopg
import pytest

from tests.support import backends
from tests.support.server import KEY, Server

pytestmark = [pytest.mark.slow, backends.SHARES_CHECKOUT_VAR,
              pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL")]

ADMIN = "ada@acme.example"
# Text no column of the log takes as sent, or that a reader must not mistake for something else.
HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u200b", "a\u202eb", "\u2066\u2069", "\ufeff",
           "\U0001f600" * 70, "x" * 10_240, "y" * 199, "y" * 200, "y" * 201, "'; --", '"\\', "\n\r\t"]


def _q(text: str) -> str:
    """A path segment; a lone surrogate goes as its (invalid) UTF-8 bytes."""
    return quote(text, safe="", errors="surrogatepass")


def _email(local: str, length: int, domain: str = "acme.example") -> str:
    return (local * length)[: length - len(domain) - 1] + "@" + domain


LONG_EMAILS = [_email("u", n) for n in (200, 253, 254)] + [_email("v.", 254)]


def _requests() -> list[tuple[str, str, dict | None]]:
    """(method, path, body) of every hostile call of the burst."""
    calls = []
    for value in HOSTILE:
        calls += [
            ("POST", "/v1/authorize", {"user": ADMIN, "action": "port.view", "account": "initech",
                                       "resource": {"type": value[:64], "id": value}}),
            ("POST", "/v1/authorize", {"user": ADMIN, "action": "port.view", "account": "initech",
                                       "resource": {"type": value, "id": "p"}}),
            ("POST", "/v1/authorize", {"user": value, "action": "port.view", "account": "initech"}),
            ("POST", "/v1/authorize", {"user": ADMIN, "action": "port.view", "account": value}),
            ("POST", "/v1/authorize", {"user": ADMIN, "action": "port.view", "session": value}),
            ("POST", "/v1/authorize/batch", {"user": ADMIN, "checks": [
                {"action": "port.view", "account": "initech", "resource": {"type": "port", "id": value}},
                {"action": "billing.view", "account": value}]}),
            ("POST", "/v1/partners/acme/invites", {"user": ADMIN, "email": f"{value}@x.example"}),
            ("PUT", f"/v1/customers/initech/links/{_q(value)}", {"user": ADMIN}),
            ("PUT", f"/v1/partners/{_q(value[:80])}", {"name": value}),
            ("PUT", f"/v1/partners/acme/users/{_q(value[:80])}%40acme.example",
             {"group": "regular"}),
        ]
    for email in LONG_EMAILS:  # targets the service builds itself: `customer/email`, the invitee
        calls += [
            ("POST", "/v1/partners/acme/invites", {"user": ADMIN, "email": email}),
            ("PUT", f"/v1/customers/initech/links/{quote(email)}", {"user": ADMIN}),
            ("PUT", f"/v1/customers/hooli/links/{quote(email)}", {"user": ADMIN, "group": "regular"}),
            ("GET", f"/v1/customers/initech/links?user={quote(ADMIN)}", None),
            ("DELETE", f"/v1/customers/hooli/links/{quote(email)}?user={quote(ADMIN)}", None),
            ("POST", "/v1/partners/acme/invites", {"user": "ian@initech.example", "email": email}),  # denied
        ]
    return calls


def _call(server: Server, method: str, path: str, body: dict | None):
    """(status, JSON body or None): a body that is not JSON (the edge's own errors, another
    part of the suite) is not this test's concern; its status is."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {KEY}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _surrogate_outside_the_log(call) -> bool:
    method, path, body = call
    return "authorize" not in path and any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(
        body, ensure_ascii=False) + path)


def test_a_hostile_burst_never_stops_the_log(tmp_path):
    url = backends.postgres_url(drop=True)
    server = Server(tmp_path, workers=2, threads=8, env={"AUTHZ_DATABASE_URL": url})
    server.load_demo()
    server.start()
    statuses, acknowledged, lock, log_stopped = {}, set(), threading.Lock(), []
    try:
        for email in LONG_EMAILS:
            assert server.call("PUT", f"/v1/partners/acme/users/{quote(email)}",
                               {"group": "regular"})[0] in (200, 201)

        def one(call):
            status, body = _call(server, *call)
            decision = None
            if isinstance(body, dict):
                decision = body.get("decision_id") or (body.get("error") or {}).get("details", {}).get(
                    "decision_id")
                for result in body.get("results") or []:
                    with lock:
                        acknowledged.add(result["decision_id"])
            with lock:
                statuses.setdefault(status, []).append(call)
                if decision:
                    acknowledged.add(decision)
                if status == 503 and ("decision log" in json.dumps(body) or "authorize" in call[1]):
                    log_stopped.append((call, body))

        calls = _requests() * 3
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, calls))
        # The contract: never a 500. A lone surrogate stored outside the log (an invite's email)
        # is refused at the JSON edge by the input part of this suite (issue 16, class 7), not
        # here; every other 500 fails this test.
        errors = [c for c in statuses.get(500, []) if not _surrogate_outside_the_log(c)]
        assert not errors, errors[:3]
        # No 503 from the log, nor on a decision. (A hostile email that the directory or an
        # invite cannot store is the database refusing that write, not the log: R2.3's
        # refusals at the edge are checked by the input suite, tests/security/.)
        assert not log_stopped, log_stopped[:3]
        assert server.call("GET", "/v1/decisions?limit=1")[0] == 200  # every entry stored so far
    finally:
        server.stop()
    assert acknowledged and sum(len(c) for c in statuses.values()) == len(calls)
    with psycopg.connect(url) as conn:
        stored = {r[0] for r in conn.execute('SELECT id FROM "decision"')}
        altered = conn.execute('SELECT count(*) FROM "decision" WHERE altered').fetchone()[0]
    assert acknowledged <= stored, sorted(acknowledged - stored)[:5]
    assert altered > 0  # the long and hostile values were stored marked, not refused
    assert not list(tmp_path.glob("*.rejected"))
    verify = server.run_cli("log", "verify")
    assert verify.returncode == 0, verify.stderr
    assert f"{len(stored)} entries verified" in verify.stdout


def test_the_burst_is_every_endpoint_kind():
    """The burst covers authorize, batch, invites, links and the directory."""
    paths = {path.split("?")[0].split("/")[2] for _, path, _ in _requests()}
    assert {"authorize", "partners", "customers"} <= paths
    assert len(list(itertools.islice(_requests(), 200))) >= 150
