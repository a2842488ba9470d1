"""Whole requests are read in the worker's poller, under a deadline, before a thread serves them
(docs/decisions/017-slow-clients.md).

Longer than 200 lines: the poller's reads and the hand-over to a thread are one state machine.

gunicorn's gthread worker hands a connection to a pool thread at its first bytes; the thread
then reads the rest of the request with blocking reads and no deadline, so a few clients
trickling a header line every few seconds held every thread. Here the worker's poller reads
without blocking until gunicorn's own parser, run over the bytes received so far, finds a whole
request (head and body); only then does a thread take the connection, with those bytes already
in its parser, so it never waits for the client. A request not whole within
AUTHZ_REQUEST_READ_SECONDS of its first byte is answered 408; a body over AUTHZ_MAX_BODY_BYTES,
413; both in the contract's JSON error shape (authz_service/serving/http_errors.py).
"""

import contextlib
import errno
import selectors
import socket
import time
from functools import partial

from gunicorn.http.body import LengthReader
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import TConn, ThreadWorker

from authz_service.config import Settings

RECV_BYTES = 256 * 1024  # at most this much read from one connection per poller event


class _NeedMore(Exception):
    """The bytes so far are a request's beginning, not yet a whole request."""


def _so_far(data: bytes):
    yield data
    raise _NeedMore


class ReadingConn(TConn):
    """A connection whose request bytes are gathered by the poller before a thread parses them."""

    def __init__(self, cfg, sock, client, server, read_seconds: float):
        super().__init__(cfg, sock, client, server)
        self.read_seconds = read_seconds
        self.received = bytearray()
        self.deadline = 0.0  # the whole request by then (set at its first byte)
        self.whole_at: int | None = None  # bytes that make the whole request, when its length is known
        self.sent_continue = False

    def init(self):
        """In the serving thread, before each request: the parser reads the gathered bytes first.
        The socket's timeout bounds any read or write a thread still makes on it."""
        super().init()
        if self.received:
            self.parser.unreader.unread(bytes(self.received))
            self.received = bytearray()
        self.sock.settimeout(self.read_seconds)


def examine(cfg, conn: ReadingConn, max_body: int) -> tuple[int, str] | bool:
    """True when the bytes so far hold a whole request, or one gunicorn's parser refuses
    (a thread then answers it from these bytes alone); False when more must come; or the
    (status, reason) to answer at once."""
    data = bytes(conn.received)
    if conn.whole_at is not None:
        return len(data) >= conn.whole_at
    parser = RequestParser(cfg, _so_far(data), conn.client)
    try:
        req = next(parser)
    except _NeedMore:
        return (431, "Request Header Fields Too Large") if len(data) > _head_limit(cfg) else False
    except Exception:  # malformed or over a limit: gunicorn answers it in the thread  # noqa: BLE001
        return True
    if isinstance(req.body.reader, LengthReader):
        length = req.body.reader.length
        if length > max_body:
            return 413, "Request Entity Too Large"
        conn.whole_at = len(data) - len(parser.unreader.buf.getvalue()) + length
        if len(data) < conn.whole_at and req._expected_100_continue and not conn.sent_continue:
            conn.sent_continue = True  # the client waits for this before sending its body
            _send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        return len(data) >= conn.whole_at
    try:
        while req.body.read(RECV_BYTES):
            pass
    except _NeedMore:
        return (413, "Request Entity Too Large") if len(data) > _head_limit(cfg) + max_body else False
    except Exception:  # noqa: BLE001 - a malformed chunk: the app would fail reading the body
        return 400, "Bad Request"
    return True


def _head_limit(cfg) -> int:
    """No acceptable request head is longer (gunicorn's line, field count and field size limits)."""
    return cfg.limit_request_line + 2 + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 2


def _send(conn: ReadingConn, data: bytes) -> None:
    with contextlib.suppress(OSError):
        conn.sock.send(data)  # small, into an empty socket buffer: not blocking


class ReadFirstWorker(ThreadWorker):
    """gunicorn's gthread worker that gives a thread only whole requests (module docstring)."""

    def init_process(self):
        # Here, in the worker: http_errors takes the API's error bodies (api.errors), which
        # import prometheus_client (via metrics); it must see the folder `authz serve` sets first.
        from authz_service.serving import http_errors

        settings = Settings.from_env()
        self.read_seconds = settings.request_read_seconds
        self.max_body = settings.max_body_bytes
        self.reading: dict[ReadingConn, None] = {}  # insertion order: the oldest deadline first
        http_errors.install()
        super().init_process()

    def new_conn(self, client, address, listener) -> ReadingConn:
        return ReadingConn(self.cfg, client, address, listener.getsockname(), self.read_seconds)

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection has bytes: gather its request."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._gather(conn)

    def on_pending_socket_readable(self, conn, client):
        """A new connection has its first bytes: gather its request."""
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        self._gather(conn)

    def finish_request(self, conn, fs):
        """A request was answered; bytes the client sent behind it are gathered like new ones."""
        try:
            keep = not fs.cancelled() and fs.result() is True
        except Exception:  # noqa: BLE001 - the parent closes it
            keep = False
        if keep and self.alive and conn.parser.unreader.buf.getvalue():
            conn.received = bytearray(conn.parser.unreader.take_buffered())
            self._gather(conn)
            return
        super().finish_request(conn, fs)

    def handle_request(self, req, conn):
        if getattr(conn, "sent_continue", False):
            req._expected_100_continue = False  # the poller has said it
        return super().handle_request(req, conn)

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in list(self.reading):
            if conn.deadline > now:
                break
            self._answer(conn, 408, "Request Timeout")

    def _gather(self, conn: ReadingConn) -> None:
        conn.sock.setblocking(False)
        conn.deadline = time.monotonic() + self.read_seconds
        conn.whole_at, conn.sent_continue, conn.data_ready = None, False, True
        self.reading[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, conn))
        if conn.received:
            self._judge(conn)
        else:
            self._readable(conn)

    def _readable(self, conn: ReadingConn, _sock=None) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno not in (errno.ECONNRESET, errno.ENOTCONN, errno.EPIPE):
                self.log.debug("reading a request failed: %s", exc)
            data = b""
        if not data:  # the client went away before sending a whole request
            self._drop(conn)
            return
        conn.received += data
        self._judge(conn)

    def _judge(self, conn: ReadingConn) -> None:
        verdict = examine(self.cfg, conn, self.max_body)
        if verdict is True:
            self._stop_reading(conn)
            self.enqueue_req(conn)
        elif verdict is not False:
            self._answer(conn, *verdict)

    def _answer(self, conn: ReadingConn, status: int, reason: str) -> None:
        self.log.info("request from %s answered %s by the worker: %s", conn.client, status, reason)
        from authz_service.serving import http_errors  # as in init_process

        _send(conn, http_errors.response(status, reason))
        with contextlib.suppress(OSError):  # the answer first, then no reset for unread bytes:
            conn.sock.shutdown(socket.SHUT_WR)
            while conn.sock.recv(RECV_BYTES):  # drop what the client has sent meanwhile
                pass
        self._drop(conn)

    def _stop_reading(self, conn: ReadingConn) -> None:
        self.reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _drop(self, conn: ReadingConn) -> None:
        self._stop_reading(conn)
        self.nr_conns -= 1
        conn.close()
