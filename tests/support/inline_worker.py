"""serving/inline.py's worker without a process: what `_serve` and a turn use, for unit tests."""

from collections import deque

from gunicorn.config import Config

from authz_service.serving import plain_http
from authz_service.serving.inline import InlineWorker
from authz_service.serving.serve import gunicorn_options


class Sock:
    """A socket that keeps what is sent."""

    def __init__(self):
        self.sent = b""

    def send(self, data):
        self.sent += data
        return len(data)


class Conn:
    client, server = ("10.0.0.9", 5123), ("127.0.0.1", 8080)

    def __init__(self):
        self.sock = Sock()


class Log:
    """The worker's logger: what access_lines was given, call by call."""

    access_log_enabled = True

    def __init__(self):
        self.calls: list[list[tuple]] = []

    def access_lines(self, rows):
        self.calls.append(list(rows))

    def exception(self, *args):
        raise AssertionError(args)


def worker(app, fast=None) -> InlineWorker:
    """A worker serving `app`, with `fast` as its direct answer (None: every request by the WSGI call)."""
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1", 0, 2, 1).items():
        cfg.set(key, value)
    one = InlineWorker.__new__(InlineWorker)  # no process: only what _serve and a turn use
    one.cfg, one.log, one.wsgi, one.fast, one.alive, one.nr, one.max_requests = cfg, Log(), app, fast, True, 0, 10**9
    one.keepalive, one.keepalived_conns, one.max_keepalived = 2, deque(), 10
    one.inline_limits, one.held, one.read_seconds = plain_http.limits(cfg), None, 5.0
    return one
