"""A sweeper that stalls between claiming a link's end, or a request's expiry, and recording it,
for longer than STALE_CLAIM, while another sweeper takes the claim over and records it: the end
or the expiry is in the partner's log once (R10.1, R10.2, R7.2; decisions 042, 044). The stall is
real (a thread held at its append) and the second sweeper's clock is set past the stale limit."""

import threading
from datetime import timedelta

from authz_service import store
from authz_service.log import chain
from authz_service.portal import link_ends
from authz_service.store.models import AccessRequest, Decision, Link, utcnow
from tests.support.auth import bearer
from tests.support.reads import synced_store

LEE, HOOLI = "lee@acme.example", "hooli"


def ends_recorded() -> int:
    with synced_store():
        return Decision.select().where((Decision.rule == "R10.1 link ended")
                                       & (Decision.resource_id == f"{HOOLI}/{LEE}")).count()


def _stalled(monkeypatch, sweep_a, sweep_b) -> dict[str, int]:
    """Sweeper A (a thread) held at its append until B has swept: what each said it recorded."""
    real, at_append, wake = chain.append_once, threading.Event(), threading.Event()

    def stalling(entries, keep):
        if threading.current_thread().name == "sweeper-a":
            at_append.set()
            assert wake.wait(30)
        return real(entries, keep)

    monkeypatch.setattr(chain, "append_once", stalling)
    counts: dict[str, int] = {}

    def sweeper_a():
        try:
            with store.connection():
                counts["a"] = sweep_a()
        finally:
            store.release()

    a = threading.Thread(target=sweeper_a, name="sweeper-a")
    a.start()
    assert at_append.wait(30)
    with store.connection():
        counts["b"] = sweep_b(now=utcnow() + link_ends.STALE_CLAIM + timedelta(seconds=1))
    wake.set()
    a.join(30)
    return counts


def test_a_stalled_sweeper_does_not_record_an_expiry_twice(client, monkeypatch):
    """As for an end: A claims a request's expiry and stalls; B, 61 s later by its clock, takes
    the stale claim over and records it; A wakes and stores nothing (R10.2)."""
    body = {"user": "reggie@acme.example", "reason": "incident 42", "duration_hours": 48}
    response = client.post(f"/v1/customers/{HOOLI}/access-requests", json=body, headers=bearer())
    assert response.status_code == 201, response.json
    request_id = response.json["request_id"]
    with store.connection():
        AccessRequest.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert _stalled(monkeypatch, link_ends.sweep_requests, link_ends.sweep_requests) == {"a": 0, "b": 1}
    with synced_store():
        assert Decision.select().where((Decision.rule == "R10.2 request expired")
                                       & (Decision.resource_id == request_id)).count() == 1
        assert AccessRequest.get_by_id(request_id).expiry_logged


def test_a_stalled_sweeper_does_not_record_an_end_twice(client, monkeypatch):
    """Sweeper A claims the end and stalls before its append; B, 61 s later by its clock, finds
    the claim stale and its entry missing, records the end and removes the link; A then wakes
    and appends: nothing more is stored, and A says it recorded nothing."""
    ends = (utcnow() + timedelta(hours=1)).isoformat() + "Z"
    response = client.put(f"/v1/customers/{HOOLI}/links/{LEE}", json={"user": "ada@acme.example", "expires_at": ends},
                          headers=bearer())
    assert response.status_code == 201, response.json
    with store.connection():
        Link.update(expires_at=utcnow() - timedelta(seconds=1)).where(Link.user == LEE).execute()
    counts = _stalled(monkeypatch, link_ends.sweep, link_ends.sweep)
    assert counts == {"a": 0, "b": 1}
    assert ends_recorded() == 1
    with store.connection():
        assert Link.get_or_none((Link.user == LEE) & (Link.customer == HOOLI)) is None
