"""The sweeper (R10.1): links past their end are removed, and each end is recorded once in the
partner's log (R7.2); requests for access past their 7 days are marked expired, each expiry
recorded once (R10.2). An ended link already counts for nothing (store/links.live); the sweep only
tidies and records. Runs in a thread of every worker (app.start), every `link_sweep_seconds`;
the claims in store/link_ends.py keep concurrent sweepers from recording an end twice."""

import logging
import threading
from datetime import datetime, timedelta

from authz_service import store
from authz_service.log import chain
from authz_service.store import link_ends, request_rows
from authz_service.store.models import to_micros, utcnow

log = logging.getLogger("authz.link_ends")
SWEEPER = "service: link expiry"  # who the entries name: nobody asked; the service ends it (R7.5)
CALLER = "link-sweeper"
STALE_CLAIM = timedelta(seconds=60)  # a claim this old whose entry is missing: its sweeper died
BATCH = 500


def _claimed_at(entry_id: str) -> datetime:
    """An entry id starts with its milliseconds since the epoch (log/chain.new_id)."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=int(entry_id[:12], 16))


def _entry(link: link_ends.Ended, entry_id: str) -> dict:
    ends = link.expires_at.isoformat(timespec="milliseconds") + "Z"
    return {"id": entry_id, "at": utcnow(), "user_email": SWEEPER, "account_id": link.partner_id,
            "log_account": link.partner_id, "action": "grant.manage", "resource_type": "link",
            "resource_id": f"{link.customer_id}/{link.email}", "allowed": True, "group": link.group,
            "rule": "R10.1 link ended", "session_id": None, "caller": CALLER, "on_behalf_of_partner": None,
            "reason": f"the link of {link.email} to {link.customer_id} as {link.group} ended at {ends}"}


def sweep(now: datetime | None = None, email: str | None = None, customer_id: str | None = None) -> int:
    """Record and remove links ended by `now` (or the one named), at most BATCH; how many ends
    were recorded by this call."""
    now = now or utcnow()
    todo = []
    for link in link_ends.due(now, BATCH, email, customer_id):
        if link.end_entry is not None and now - _claimed_at(link.end_entry) < STALE_CLAIM:
            continue  # another sweeper is recording it
        todo.append((link, chain.new_id()))
    won = link_ends.claim(todo, now)
    if not won:
        return 0
    chain.sync()  # entries spooled by a sweeper that died are stored before asking
    earlier = link_ends.recorded([link.end_entry for link, _ in won if link.end_entry is not None])
    # a stale claim whose entry is stored was recorded: only its row is left to remove
    fresh = [(link, entry_id) for link, entry_id in won if link.end_entry not in earlier]
    # R10.1, decision 042: a sweeper that stalled past STALE_CLAIM while another recorded this end
    # finds the end's record made and stores nothing
    by_id = {entry_id: link for link, entry_id in fresh}
    stored = chain.append_once([_entry(link, entry_id) for link, entry_id in fresh],
                               lambda entries: link_ends.first_records([(e["id"], by_id[e["id"]]) for e in entries]))
    link_ends.remove([(link, entry_id) for link, entry_id in won], now)
    return len(stored)


def _expiry_entry(row, entry_id: str) -> dict:
    return {"id": entry_id, "at": utcnow(), "user_email": "service: request expiry", "account_id": row.partner,
            "log_account": row.partner, "action": "grant.request", "resource_type": "access_request",
            "resource_id": row.id, "allowed": False, "group": row.group, "rule": "R10.2 request expired",
            "session_id": None, "caller": CALLER, "on_behalf_of_partner": None,
            "reason": f"the request of {row.requester} for {row.customer_id} waited 7 days undecided"}


def sweep_requests(now: datetime | None = None) -> int:
    """R10.2: requests past their 7 days are marked expired and each expiry recorded once in the
    partner's log, by the same claim, append, confirm steps as a link's end."""
    now = now or utcnow()
    stale = f"{to_micros(now - STALE_CLAIM) // 1000:012x}"  # entry ids start with their milliseconds
    rows = request_rows.unrecorded_expiries(now, stale, BATCH)
    won = request_rows.claim_expiries([(row, chain.new_id()) for row in rows], now)
    if not won:
        return 0
    chain.sync()
    earlier = link_ends.recorded([row.expired_entry for row, _ in won if row.expired_entry])
    fresh = [(row, entry_id) for row, entry_id in won if row.expired_entry not in earlier]
    # R10.2, decision 044: as for a link's end, a sweeper whose stale claim another took over
    # and recorded stores nothing
    stored = chain.append_once([_expiry_entry(row, entry_id) for row, entry_id in fresh],
                               lambda entries: request_rows.first_expiry_records([e["id"] for e in entries]))
    request_rows.expiries_logged([entry_id for _, entry_id in won])
    return len(stored)


def end_one(email: str, customer_id: str) -> None:
    """Record and remove one ended link now (a PUT on it makes a new link, R10.1)."""
    sweep(email=email, customer_id=customer_id)


class Sweeper:
    """A daemon thread sweeping every `seconds` (0: never)."""

    def __init__(self, seconds: float):
        self.seconds, self.stopping = seconds, threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> "Sweeper":
        if self.seconds > 0 and self.thread is None:
            self.thread = threading.Thread(target=self._run, name="link-sweeper", daemon=True)
            self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stopping.wait(self.seconds):
            try:
                with store.connection():
                    while sweep() >= BATCH:
                        pass
                    while sweep_requests() >= BATCH:
                        pass
            except Exception as exc:  # the database or the log away: the next round tries again
                log.warning("link sweeper: %s", exc)

    def stop(self, wait: float = 5.0) -> None:
        """Stop sweeping; wait for a sweep under way to end (up to `wait` s)."""
        self.stopping.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(wait)
