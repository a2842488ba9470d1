"""`kill -9` mid-load loses no acknowledged log entry and leaves a valid chain (R7.4)."""

import http.client
import json
import signal
import subprocess
import threading
import time

import pytest

from tests.soak import SCALE, tally
from tests.system.server import AUTHZ, KEY, ROOT, Server

CHECKS = [("rita@acme.example", "port.create", "initech"), ("lee@acme.example", "port.create", "hooli"),
          ("ian@initech.example", "port.view", "initech"), ("ada@acme.example", "grant.manage", "acme")]


def hammer(port: int, received: list[str], stop: threading.Event) -> None:
    """Authorize in a loop on one kept-alive connection; keep every decision_id answered 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    n = 0
    while not stop.is_set():
        user, action, account = CHECKS[n % len(CHECKS)]
        n += 1
        try:
            conn.request("POST", "/v1/authorize", json.dumps(
                {"user": user, "action": action, "account": account}), headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            return  # the server is gone: what was answered before counts
        if response.status == 200:
            received.append(json.loads(body)["decision_id"])


def logged_ids(server: Server) -> set[str]:
    """Every decision_id in /v1/decisions, page by page."""
    found, cursor = set(), None
    while True:
        path = "/v1/decisions?limit=500" + (f"&cursor={cursor}" if cursor else "")
        status, body = server.call("GET", path)
        assert status == 200, body
        found |= {item["decision_id"] for item in body["items"]}
        cursor = body["next_cursor"]
        if cursor is None:
            return found


@pytest.mark.slow
def test_kill_9_mid_load_loses_no_acknowledged_entry(tmp_path):
    """R7.4: 6 clients for ~2.5 s, SIGKILL to the whole server, restart: every 200's
    decision_id is in the log, and `authz log verify` passes."""
    server = Server(tmp_path, workers=2)
    server.load_demo()
    server.start()
    received, stop = [], threading.Event()
    clients = [threading.Thread(target=hammer, args=(server.port, received, stop))
               for _ in range(6)]
    try:
        for client in clients:
            client.start()
        time.sleep(2.5 * SCALE)
        server.stop(signal.SIGKILL)  # the whole process group, mid-load
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=20)
    answered = set(received)
    assert len(answered) == len(received) > 50, "the load did not get going"
    server.start()
    try:
        missing = answered - logged_ids(server)
    finally:
        server.stop()
    tally("kill -9 under load", requests=len(received), faults=1, lost=len(missing))
    assert not missing, f"{len(missing)} acknowledged decisions are not in the log"
    verify = subprocess.run([AUTHZ, "log", "verify"], cwd=ROOT, env=server.env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ok:" in verify.stdout
