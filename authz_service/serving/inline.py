"""The decision endpoints' plain requests served in the worker's poller thread, without a hand-over
to a pool thread and without a second parse (docs/decisions/047-inline-decisions.md).

With one thread a worker (`authz serve`'s default) a request handed to the pool is still served
one at a time; the hand-over costs a future, a pipe write, a thread switch, gunicorn's Python
request object, and the parser run twice (request_reader.py's whole-request check, then the
thread's). A request is served here instead when it is plainly framed: POST to one of the three
decision paths (api/fast.py's ROUTES) over HTTP/1.1, with one decimal Content-Length, no
Transfer-Encoding, Expect, Upgrade or underscored header field, no Connection but
`keep-alive`, and nothing sent behind it. Anything else, or any doubt, goes the way it went
before, whose answer is the reference (tests/system/test_inline_front.py sends both ways the
same requests).

The answer is the one gunicorn's Response writes for the same app response: the status line,
Server, Date, Connection, then the app's header fields (checked as gunicorn checks them), then
the body; the access line is the same JSON line.

A turn of the worker's loop (one poll, then the requests it reports) serves its plain requests with
one read of the facts' epoch (store/kept_facts.one_read; R4.6: each of them was sent before that
read), and writes their access lines together once the turn is over (docs/decisions/053).
"""

import selectors
import time
from collections.abc import Callable
from functools import partial

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER

from authz_service.serving.plain_http import (
    Answer,
    Plain,
    direct_fields,
    environ_for,
    failed,
    limits,
    plain,
    response_bytes,
)
from authz_service.serving.request_reader import RECV_BYTES, ReadFirstWorker


class InlineWorker(ReadFirstWorker):
    """request_reader.py's worker, serving plain decision requests itself (module docstring);
    every other request is judged and handed to a thread as before."""

    alive: bool  # gunicorn's: False once the worker is stopping
    fast: Callable[..., tuple | None] | None = None  # the app's FastAuthorize.answer (load_wsgi)

    def init_process(self):
        """Before gunicorn's, which runs the worker's loop: served here only with one thread a
        worker, where a pool thread would serve one request at a time all the same."""
        self.inline_limits = limits(self.cfg) if self.cfg.threads == 1 else None
        self.keepalive = self.cfg.keepalive  # read per request: gunicorn's config looks it up each time
        self.held: list[tuple] | None = None  # this turn's access lines, while one runs
        super().init_process()

    def load_wsgi(self):
        """gunicorn's, then the app's decision answer (api/fast.py's FastAuthorize.answer) when
        it has one: a plain request is given to it without an environ."""
        super().load_wsgi()
        # in the worker (plain_http's PATHS says why)
        from authz_service.api.fast import FastAuthorize

        fast = getattr(self.wsgi, "wsgi_app", None)
        self.fast = fast.answer if isinstance(fast, FastAuthorize) else None

    def wait_for_and_dispatch_events(self, timeout):
        """One turn (module docstring): poll, serve what the poll reports, then write the access
        lines of the requests served inline."""
        if not self.inline_limits:
            super().wait_for_and_dispatch_events(timeout)
            return
        from authz_service.store import kept_facts  # in the worker (plain_http's PATHS says why)

        self.held = []
        try:
            with kept_facts.one_read():  # the epoch is read at the turn's first read, after the poll
                super().wait_for_and_dispatch_events(timeout)
        finally:
            held, self.held = self.held, None
            if held:
                self.log.access_lines(held)

    def finish_request(self, conn, fs):
        """A pool thread has answered a request (request_reader.py). Bytes it read behind it may
        have come after this turn's epoch read: what they ask is served with a read of its own."""
        from authz_service.store import kept_facts  # in the worker (plain_http's PATHS says why)

        kept_facts.read_again()
        super().finish_request(conn, fs)

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection has bytes. A whole plain request in them is answered with the
        connection left in the poller; anything else is gathered as request_reader.py does."""
        if not self.inline_limits:
            super().on_client_socket_readable(conn, client)
            return
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self.keepalived_conns.remove(conn)
        request = data and plain(data, self.inline_limits, self.max_body)
        if request and self._serve(conn, request):
            self._queue_kept(conn)  # still registered with this callback
            return
        self.poller.unregister(client)
        if request or not data:  # answered with Connection: close, or the client has gone
            self.nr_conns -= 1
            conn.close(graceful=bool(request))
            return
        conn.received = bytearray(data)
        self._gather(conn)

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
        keep = bool(self.alive and self.keepalive and len(self.keepalived_conns) < self.max_keepalived)
        answer = Answer()
        data, body, environ, keep = self._answered(conn, request, answer, keep)
        try:
            try:
                sent = conn.sock.send(data)  # non-blocking: an answer fits in an empty socket buffer
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                conn.sock.settimeout(self.read_seconds)  # a client that does not read is dropped then
                conn.sock.sendall(data[sent:])
                conn.sock.setblocking(False)
        except OSError:
            return False
        finally:
            row = (answer.status, answer.headers, len(body),
                   environ or {"REMOTE_ADDR": conn.client[0], "REQUEST_METHOD": "POST", "PATH_INFO": request.path},
                   int((time.perf_counter() - started) * 1_000_000))
            if self.held is None:  # outside a turn
                self.log.access_lines([row])
            else:
                self.held.append(row)
        return keep

    def _answered(self, conn, request: Plain, answer: Answer, keep: bool) -> tuple[bytes, bytes, dict | None, bool]:
        """(the answer's bytes, its body, the environ if one was made, whether to keep the
        connection): the app's direct answer when it gives one, else its WSGI call's; gunicorn's
        500 when the app raised."""
        environ, fast = None, self.fast
        try:
            fields = direct_fields(request) if fast else None
            got = fields and fast and fast(request.path, fields[0], request.body, fields[1], fields[2])
            if got:  # the app's answer, as its WSGI call would give it
                answer.start_response(got[0], got[1])
                body = got[2]
            else:
                environ = environ_for(request, conn, self.cfg)
                result = self.wsgi(environ, answer.start_response)
                try:
                    body = b"".join(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()
            return response_bytes(answer, body, keep), body, environ, keep
        except Exception:
            self.log.exception("Error handling request")
            answer.status, answer.headers = "500", []
            return failed(), b"", environ, False

    def _keep(self, conn) -> None:
        """Back to the poller until the client's next request (gthread's finish_request)."""
        self._queue_kept(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))

    def _queue_kept(self, conn) -> None:
        """At the kept-alive queue's end, which stays ordered by timeout (murder_keepalived)."""
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
        self.keepalived_conns.append(conn)
