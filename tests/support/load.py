"""Load on a real server: clients authorizing in a loop, and every decision_id its log holds."""

import http.client
import json
import threading

from tests.support.server import Server, json_headers

CHECKS = [("rita@acme.example", "port.create", "initech"), ("lee@acme.example", "port.create", "hooli"),
          ("ian@initech.example", "port.view", "initech"), ("ada@acme.example", "grant.manage", "acme")]


def hammer(port: int, received: list[str], stop: threading.Event) -> None:
    """Authorize in a loop on one kept-alive connection; keep every decision_id answered 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        _authorize_until(conn, received, stop)
    finally:
        conn.close()


def _authorize_until(conn: http.client.HTTPConnection, received: list[str], stop: threading.Event) -> None:
    headers = json_headers()
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
