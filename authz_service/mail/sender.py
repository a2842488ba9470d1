"""Delivering the outbox (R8.3): claim due rows under a lease, send over SMTP, retry with backoff."""

import atexit
import logging
import smtplib
import threading
import uuid
from datetime import timedelta

from authz_service import metrics, store
from authz_service.mail import notifications, smtp
from authz_service.store import outbox
from authz_service.store.models import utcnow

log = logging.getLogger("authz.mail")


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: base, 2*base, 4*base, ... up to cap."""
    return min(cap, base * 2 ** max(attempts - 1, 0))


class Sender:
    """Sends due outbox rows; `run_once` for one batch, `start` for a daemon thread."""

    def __init__(self, settings, clock=utcnow, batch: int = 20, timeout: float = 10.0):
        self.target = smtp.parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self.settings, self.clock, self.batch, self.timeout = settings, clock, batch, timeout
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Claim one batch of due rows, send each, record each outcome; how many rows were handled."""
        target = self.target
        if target is None:
            return 0
        owner = uuid.uuid4().hex
        with store.connection():
            now = self.clock()
            lease = timedelta(seconds=self.settings.mail_lease_seconds)
            rows = outbox.claim(owner, now, now + lease, self.batch)
            if rows:  # no new message once half the lease is gone: it must not run out mid-batch
                self._deliver(target, rows, owner, now + lease / 2)
        return len(rows)

    def drain(self, rounds: int = 100) -> int:
        """Run batches until nothing is due (at most `rounds`); how many rows were handled."""
        total = 0
        for _ in range(rounds):
            handled = self.run_once()
            if not handled:
                break
            total += handled
        return total

    def _deliver(self, target: smtp.SmtpTarget, rows: list[dict], owner: str, deadline) -> None:
        try:
            connection = smtp.open_session(target, self.timeout)
        except smtp.SESSION as exc:
            self._retry_all(rows, owner, f"cannot reach the mail server: {exc}")
            return
        try:
            for index, row in enumerate(rows):
                if self.clock() > deadline:
                    outbox.release([r["id"] for r in rows[index:]], owner)
                    return
                session_error = self._send_one(connection, row, owner)
                if session_error:
                    self._retry_all(rows[index:], owner, session_error)
                    return
        finally:
            smtp.close(connection)

    def _send_one(self, connection: smtplib.SMTP, row: dict, owner: str) -> str | None:
        """Send one row and record its outcome; the error when the session itself failed."""
        mail_from = self.settings.mail_from
        try:
            message = notifications.build_message(row, mail_from)
            connection.send_message(message, mail_from, [row["email"]])
        except smtp.PER_MESSAGE as exc:
            is_permanent, why = smtp.classify(exc)
            (self._fail if is_permanent else self._retry)(row, owner, why)
            smtp.reset(connection)
        except smtp.SESSION as exc:  # disconnected, sender refused, ...
            return f"mail server error: {exc}"
        else:
            self._settle(row, owner, status="sent", sent_at=self.clock(), last_error=None)
        return None

    def _retry(self, row: dict, owner: str, why: str) -> None:
        delay = backoff(row["attempts"] + 1, self.settings.mail_retry_seconds,
                        self.settings.mail_retry_max_seconds)
        self._settle(row, owner, next_attempt_at=self.clock() + timedelta(seconds=delay),
                     last_error=why[:1000])

    def _retry_all(self, rows: list[dict], owner: str, why: str) -> None:
        for row in rows:
            self._retry(row, owner, why)

    def _fail(self, row: dict, owner: str, why: str) -> None:
        log.warning("mail %s to %s failed for good: %s", row["id"], row["email"], why)
        self._settle(row, owner, status="failed", last_error=why[:1000])

    def _settle(self, row: dict, owner: str, **changes) -> None:
        if not outbox.settle(row["id"], owner, **changes):
            log.warning("lease on mail %s ran out before its outcome was recorded", row["id"])

    def start(self) -> "Sender":
        """Send in a daemon thread every `mail_poll_seconds`, when SMTP is configured (0: never)."""
        if self.target is not None and self.settings.mail_poll_seconds > 0:
            self._thread = threading.Thread(target=self.serve, name="mail-sender", daemon=True)
            self._thread.start()
            atexit.register(self.stop)
        return self

    def serve(self) -> None:
        """Send until stopped: a batch at once while there is work, else wait one poll."""
        while not self._stop.is_set():
            try:
                handled = self.run_once()
                self.error = None
            except Exception as exc:  # the database or the network: log, wait, try again
                if str(exc) != self.error:
                    log.error("mail sender: %s", exc)
                self.error, handled = str(exc), 0
            if not handled:
                self._stop.wait(self.settings.mail_poll_seconds or 2.0)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the message being sent, if any."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def register_gauges() -> None:
    """The outbox's depth in /metrics, read when scraped (no thread)."""
    metrics.register_gauge("authz_mail_outbox_pending", "Notifications waiting to be sent",
                           lambda: outbox.depth("pending"))
    metrics.register_gauge("authz_mail_outbox_failed", "Notifications that failed for good",
                           lambda: outbox.depth("failed"))
