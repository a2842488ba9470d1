"""The decision endpoints' plain requests served in the worker's poller thread, without a hand-over
to a pool thread and without a second parse (docs/decisions/047-inline-decisions.md).

With one thread a worker (`authz serve`'s default) a request handed to the pool is still served
one at a time; the hand-over costs a future, a pipe write, a thread switch, gunicorn's Python
request object, and the parser run twice (request_reader.py's whole-request check, then the
thread's). A request is served here instead when it is plainly framed: POST to one of the three
decision paths (api/fast.py's ROUTES) over HTTP/1.1, with one decimal Content-Length, no
Transfer-Encoding, Expect, Upgrade, Connection or underscored header field, and nothing sent
behind it. Anything else, or any doubt, goes the way it went before, whose answer is the
reference (tests/system/test_inline_front.py sends both ways the same requests).

The answer is the one gunicorn's Response writes for the same app response: the status line,
Server, Date, Connection, then the app's header fields (checked as gunicorn checks them), then
the body; the access line is the same JSON line.
"""

import selectors
import time
from functools import partial

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER

from authz_service.serving.plain_http import (
    Answer,
    Plain,
    environ_for,
    failed,
    limits,
    plain,
    response_bytes,
)
from authz_service.serving.request_reader import ReadFirstWorker


class InlineWorker(ReadFirstWorker):
    """request_reader.py's worker, serving plain decision requests itself (module docstring);
    every other request is judged and handed to a thread as before."""

    alive: bool  # gunicorn's: False once the worker is stopping

    def init_process(self):
        """Before gunicorn's, which runs the worker's loop: served here only with one thread a
        worker, where a pool thread would serve one request at a time all the same."""
        self.inline_limits = limits(self.cfg) if self.cfg.threads == 1 else None
        super().init_process()

    def _judge(self, conn) -> None:
        short = conn.whole_at is not None and len(conn.received) < conn.whole_at  # a body still coming
        request = self.inline_limits and not short and plain(bytes(conn.received), self.inline_limits,
                                                             self.max_body)
        if not request:
            super()._judge(conn)
            return
        self._stop_reading(conn)
        conn.received = bytearray()
        if self._serve(conn, request):
            self._keep(conn)
        else:
            self.nr_conns -= 1
            conn.close(graceful=True)

    def _serve(self, conn, request: Plain) -> bool:
        """Answer the request on conn's socket; whether the connection stays open."""
        started = time.perf_counter()
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        keep = bool(self.alive and self.cfg.keepalive and len(self.keepalived_conns) < self.max_keepalived)
        environ, answer, body = environ_for(request, conn, self.cfg), Answer(), b""
        try:
            result = self.wsgi(environ, answer.start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            data = response_bytes(answer, body, keep)
        except Exception:
            self.log.exception("Error handling request")
            data, keep, answer.status, answer.headers, body = failed(), False, "500", [], b""
        conn.sock.settimeout(self.read_seconds)  # a client that does not read is dropped then
        try:
            conn.sock.sendall(data)
        except OSError:
            return False
        finally:
            self.log.access_line(answer.status, answer.headers, len(body), environ,
                                 int((time.perf_counter() - started) * 1_000_000))
        return keep

    def _keep(self, conn) -> None:
        """Back to the poller until the client's next request (gthread's finish_request)."""
        conn.sock.setblocking(False)
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
        self.keepalived_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))
