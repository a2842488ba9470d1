"""`authz serve`'s access log: one JSON object per request, with the request id (X-Request-Id).

gunicorn's own access logger builds, for every request, a dictionary of every request
header, every response header and the whole WSGI environ, whatever the format uses;
on the 2-core machine that was ~100 µs a request (docs/performance.md). This one
writes the same fields directly, and where the access log is a plain stream or file
with gunicorn's message-only format, writes the line to it without a LogRecord
(the logging machinery was a further ~10% of a decision's time on the 2-core machine).
"""

import logging
import sys
import threading
import time
from json.encoder import encode_basestring_ascii

from gunicorn.glogging import Logger

from authz_service import this_process


class JsonAccessLogger(Logger):
    """gunicorn's logger (error log, reopening on USR1 as usual) with a direct JSON access line."""

    def access(self, resp, req, environ, request_time):
        """{"time", "remote", "method", "path", "status", "bytes", "duration_us", "pid", "request_id"}."""
        self.access_line(resp.status, resp.headers, getattr(resp, "sent", "-"), environ,
                         request_time.seconds * 1_000_000 + request_time.microseconds)

    def access_line(self, status, headers, sent, environ, duration_us: int) -> None:
        """The line for a request answered with this status ("200 OK" or 200), header fields and
        body bytes sent."""
        self.access_lines([(status, headers, sent, environ, duration_us)])

    def access_lines(self, rows: list[tuple]) -> None:
        """access_line's line for each row, in order, written together: serving/inline.py answers
        without gunicorn's response object, and writes a turn's lines at its end."""
        if not self.access_log_enabled:
            return
        lines = []
        for row in rows:
            try:
                lines.append(line(*row))
            except Exception:
                self.exception("access log line not written")
        try:
            self._write(lines)
        except Exception:
            self.exception("access log lines not written")

    def _write(self, lines: list[str]) -> None:
        """The lines to each handler as `access_log.info` would write them: directly, in one
        write, when every handler is plain, else through logging one by one."""
        handlers = self.access_log.handlers
        if not handlers or not all(_plain(h) for h in handlers) or self.access_log.disabled:
            for text in lines:
                self.access_log.info("%s", text)
            return
        for handler in handlers:
            handler.acquire()  # the lock gunicorn's reopen (USR1) holds while it swaps the stream
            try:
                handler.stream.write("".join([text + handler.terminator for text in lines]))
                handler.flush()
            finally:
                handler.release()


def line(status, headers, sent, environ, duration_us: int) -> str:
    """The access line: what json.dumps writes for {"time", "remote", "method", "path", "status",
    "bytes", "duration_us", "pid", "request_id"}, each text through json's own C escaper, without
    a dict and an encoder per request (tests/unit/test_access_log.py compares the two)."""
    code = int(status.split(None, 1)[0] if isinstance(status, str) else status)
    request_id = next((v for k, v in headers if k.lower() == "x-request-id"), "-")
    return (f'{{"time": {_text(_stamp())}, "remote": {_text(environ.get("REMOTE_ADDR", "-"))}, '
            f'"method": {_value(environ.get("REQUEST_METHOD"))}, "path": {_value(environ.get("PATH_INFO"))}, '
            f'"status": {code}, "bytes": {_text(str(sent))}, "duration_us": {int(duration_us)}, '
            f'"pid": "<{this_process.pid()}>", "request_id": {_text(request_id)}}}')


def _value(text) -> str:
    return "null" if text is None else _text(text)


_text = encode_basestring_ascii  # json.dumps's escaping of a text (ensure_ascii)


class PerSecond:
    """A text made from the current second, made once a second (the access line's time, the
    inline answers' Date field)."""

    def __init__(self, make):
        self.make, self.made = make, (-1, "")  # one tuple: a reader never sees half of it

    def __call__(self) -> str:
        now = int(time.time())
        if now != self.made[0]:
            self.made = now, self.make(now)
        return self.made[1]


_stamp = PerSecond(lambda now: time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(now)))  # gunicorn's format


def _plain(handler: logging.Handler) -> bool:
    """A stream or file handler with no filter and gunicorn's access format ("%(message)s")."""
    return (type(handler) in (logging.StreamHandler, logging.FileHandler) and not handler.filters
            and handler.level <= logging.INFO
            and getattr(handler.formatter, "_fmt", None) == "%(message)s")


def logged(app, stream=None):
    """`app` writing the same JSON line per request as JsonAccessLogger, for a front without
    gunicorn's logger (granian_front.py); to stdout unless told."""
    out, lock = stream or sys.stdout, threading.Lock()  # one whole line at a time, whatever --threads

    def logged_app(environ, start_response):
        started, seen = time.perf_counter(), {}

        def start(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = app(environ, start)
        sent = sum(map(len, body)) if isinstance(body, list) else "-"
        text = line(str(seen.get("status", "500")), seen.get("headers", ()), sent, environ,
                    int((time.perf_counter() - started) * 1_000_000))
        with lock:
            out.write(text + "\n")
            out.flush()
        return body
    return logged_app
