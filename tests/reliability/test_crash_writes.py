"""Crash under load, extended to links and services: nothing acknowledged is lost (R4.6, R5, R7.4)."""

import http.client
import json
import signal
import sqlite3
import threading
import time

import pytest

from tests.support.load import hammer, logged_ids
from tests.support.server import Server, json_headers
from tests.support.soak import SCALE, tally

pytestmark = pytest.mark.slow
PAIRS = [("lee@acme.example", c) for c in ("hooli", "initech", "umbrella")] + [
    ("reggie@acme.example", "hooli"), ("reggie@acme.example", "initech"),
    ("sam@acme.example", "hooli"), ("sam@acme.example", "umbrella"), ("rita@acme.example", "hooli")]


def writer(port: int, acked: dict, stop: threading.Event) -> None:
    """Link every pair once, then report services one after another; keep what was acknowledged."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        _write(conn, acked, stop)
    finally:
        conn.close()


def _write(conn: http.client.HTTPConnection, acked: dict, stop: threading.Event) -> None:
    headers = json_headers()
    calls = [("PUT", f"/v1/customers/{c}/links/{u}", {"user": "ada@acme.example", "group": "read_only"},
              ("link", u, c)) for u, c in PAIRS]
    n = 0
    while not stop.is_set():
        if calls:
            method, path, body, key = calls.pop(0)
        else:
            n += 1
            method, path, key = "POST", "/v1/customers/initech/services", ("service", f"svc-{n}")
            body = {"user": "ada@acme.example", "service_id": f"svc-{n}", "kind": "port",
                    "monthly_price_cents": 100}
        try:
            conn.request(method, path, json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            return
        if response.status in (200, 201):
            acked.setdefault(key[0], set()).add(key[1:])
        else:
            acked.setdefault("refused", []).append((response.status, key))


def test_kill_9_loses_no_acknowledged_link_service_or_decision(tmp_path):
    """SIGKILL mid-load; after restart every acknowledged link, service and decision is there."""
    server = Server(tmp_path, workers=2)
    server.load_demo()
    server.start()
    received, acked, stop = [], {}, threading.Event()
    threads = [threading.Thread(target=hammer, args=(server.port, received, stop)) for _ in range(3)]
    threads.append(threading.Thread(target=writer, args=(server.port, acked, stop)))
    try:
        for thread in threads:
            thread.start()
        time.sleep(2.5 * SCALE)
        server.stop(signal.SIGKILL)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    assert len(acked.get("service", ())) > 5 and len(acked.get("link", ())) == len(PAIRS), acked.get("refused")
    with sqlite3.connect(tmp_path / "authz.db") as db:
        links = set(db.execute("SELECT user_email, customer_id FROM link").fetchall())
        services = {(r[0],) for r in db.execute("SELECT id FROM service").fetchall()}
    server.start()
    try:
        missing_decisions = set(received) - logged_ids(server)
    finally:
        server.stop()
    lost = len(acked["link"] - links) + len(acked["service"] - services) + len(missing_decisions)
    tally("kill -9 with links and services", requests=len(received) + sum(map(len, acked.values())),
          faults=1, lost=lost)
    assert lost == 0, (acked["link"] - links, acked["service"] - services, missing_decisions)
