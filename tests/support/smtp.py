"""A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives."""

import email
import email.policy
import threading
import time
from datetime import timedelta

from aiosmtpd.controller import Controller

from authz_service.app import create_app
from authz_service.store.models import utcnow
from tests.support.auth import BOOTSTRAP
from tests.support.server import free_port


class Mailbox:
    """The server's handler: keeps each delivered message; refuses chosen recipients with 550.

    `unclear` DATA commands are kept but answered 451, like a server that took
    the message and then failed to say so.
    """

    def __init__(self, refuse=(), defer=(), unclear: int = 0):
        self.refuse = {a.lower() for a in refuse}
        self.defer = {a.lower() for a in defer}
        self.unclear = unclear
        self.messages: list[tuple[str, email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """550 or 450 for the chosen addresses, else accept."""
        if address.lower() in self.refuse:
            return "550 5.1.1 no such mailbox here"
        if address.lower() in self.defer:
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message for each recipient."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.extend((rcpt.lower(), message) for rcpt in envelope.rcpt_tos)
            if self.unclear > 0:
                self.unclear -= 1
                return "451 4.3.0 local error in processing"
        return "250 OK"

    def received(self) -> list[tuple[str, str]]:
        """(recipient, Message-ID) of every delivery, in order."""
        with self.lock:
            return [(rcpt, message["Message-ID"]) for rcpt, message in self.messages]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        """The messages delivered to one address."""
        with self.lock:
            return [message for rcpt, message in self.messages if rcpt == address.lower()]

    def wait_for(self, count: int, seconds: float = 15.0) -> list[tuple[str, str]]:
        """Wait until at least `count` deliveries arrived (or the time is up); return them all."""
        deadline = time.monotonic() + seconds
        while len(self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received()


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<port>; stop() and start() again on the same port (down, then back)."""

    def __init__(self, mailbox: Mailbox | None = None, port: int | None = None, smtputf8: bool = False):
        self.mailbox = mailbox or Mailbox()
        self.port = port or free_port()
        self.smtputf8 = smtputf8
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        """The AUTHZ_SMTP_URL for this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SmtpServer":
        """Listen (again) on the port."""
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port,
                                     enable_SMTPUTF8=self.smtputf8, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused, like a server that is down."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Clock:
    """The mail sender's idea of now, moved by a test (backoff and leases without sleeping).

    It starts ten minutes ahead of the real time: rows the service queues while a test sets up
    are due at the real time they were queued, which on a slow machine can be seconds after the
    clock was made, and they must be due to the sender all the same.
    """

    def __init__(self):
        self.now = utcnow() + timedelta(minutes=10)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_app(database_url: str, smtp_url: str | None, **settings):
    """The service with its sender thread off (the tests drive senders) unless asked."""
    return create_app({"database_url": database_url, "bootstrap_key": BOOTSTRAP,
                       "policy_poll_seconds": 0, "mail_poll_seconds": 0, "smtp_url": smtp_url,
                       "mail_retry_seconds": 60, **settings}, migrate=True)
