"""Concurrent approve, deny and cancel of one request for access (R10.2), through the API and the
console at once: exactly one wins, the others are 409 `not_pending` (the console shows the
refusal), the stored status is the winner's, and a link exists exactly when the approval won
(R10.1: never a link for a denied or cancelled request). On both stores.
"""

import threading

from authz_service import store
from authz_service.store.models import AccessRequest, Link
from tests.support.auth import bearer
from tests.support.console import csrf, make_key, sign_in

ADA, PAT, REGGIE = "ada@acme.example", "pat@acme.example", "reggie@acme.example"
ROUNDS = 4


def _steps(app, request_id: str, console_token: tuple):
    """(name, call) of each way to close the request; each returns (status, won)."""
    def api_approve():
        r = app.test_client().post(f"/v1/access-requests/{request_id}/approve", json={"user": ADA}, headers=bearer())
        return r.status_code, r.status_code == 200

    def api_deny():
        r = app.test_client().post(f"/v1/access-requests/{request_id}/deny", headers=bearer(),
                                   json={"user": PAT, "reason": "not now"})
        return r.status_code, r.status_code == 200

    def api_cancel():
        r = app.test_client().delete(f"/v1/access-requests/{request_id}", query_string={"user": REGGIE},
                                     headers=bearer())
        return r.status_code, r.status_code == 204

    def console_approve():
        client, token = console_token
        r = client.post("/console/requests/approve", data={"csrf_token": token, "partner": "acme",
                                                           "request_id": request_id})
        return r.status_code, None  # a redirect either way; the row says whether it won

    return {"approved": api_approve, "denied": api_deny, "cancelled": api_cancel, "console": console_approve}


def _race(steps: dict) -> dict:
    start, answers = threading.Barrier(len(steps)), {}

    def run(name, call):
        start.wait()
        try:
            answers[name] = call()
        finally:
            store.release()

    threads = [threading.Thread(target=run, args=item) for item in steps.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_approve_deny_cancel_and_the_console_at_once_one_wins(app, client):
    console = app.test_client()
    sign_in(console, make_key("operator", ["audit", "manage"]))
    console_token = (console, csrf(console))
    for _ in range(ROUNDS):
        with store.connection():
            Link.delete().where((Link.user == REGGIE) & (Link.customer == "hooli")).execute()
        made = client.post("/v1/customers/hooli/access-requests", headers=bearer(),
                           json={"user": REGGIE, "reason": "incident", "duration_hours": 3})
        request_id = made.json["request_id"]
        answers = _race(_steps(app, request_id, console_token))
        assert answers["console"][0] == 302, answers
        api_wins = [name for name in ("approved", "denied", "cancelled") if answers[name][1]]
        assert all(answers[n][0] == 409 for n in ("approved", "denied", "cancelled") if n not in api_wins), answers
        with store.connection():
            row = AccessRequest.get_by_id(request_id)
            linked = Link.get_or_none((Link.user == REGGIE) & (Link.customer == "hooli"))
        assert len(api_wins) <= 1, answers
        if api_wins:
            assert row.status == api_wins[0], (answers, row.status)
        else:  # the console's approval won
            assert row.status == "approved" and row.decided_by != ADA.lower(), (answers, row.decided_by)
        assert (linked is not None) == (row.status == "approved"), (answers, row.status)
