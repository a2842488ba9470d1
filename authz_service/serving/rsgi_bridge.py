"""The WSGI app behind granian's RSGI interface: a whole request is read on the worker's event
loop, under the read deadline and the body limit, before a thread runs the app
(docs/decisions/032-serving.md; the same rule as 017's poller for gunicorn).

granian's own WSGI interface hands the app a body that a thread reads from the socket: one
client that stops sending its body holds that thread for good (measured: the only thread of
`--workers 1 --threads 1` held past 20 s, every other caller waiting). Here a body not whole
within AUTHZ_REQUEST_READ_SECONDS is 408, a body over AUTHZ_MAX_BODY_BYTES is 413 at once
(a declared length) or as soon as it grows past it (chunked), both in the contract's shape;
no thread waits for a client.
"""

import asyncio
import io
import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_to_bytes

from granian._granian import RSGIProtocolClosed

from authz_service.api.error_table import HTTP_CODES, body
from authz_service.serving.http_errors import MESSAGES

log = logging.getLogger("authz.serve")


def error_answer(status: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the front's own error (408, 413) in the contract's shape."""
    payload = json.dumps(body(HTTP_CODES[status], MESSAGES[status], {})).encode()
    return status, [("content-type", "application/json"), ("connection", "close")], payload


class TooLarge(Exception):
    """The body grew past the limit."""


class Bridge:
    """An RSGI app running `wsgi_app` in `threads` threads of this worker."""

    def __init__(self, wsgi_app, threads: int, read_seconds: float, max_body: int):
        self.app, self.read_seconds, self.max_body = wsgi_app, read_seconds, max_body
        # `--threads 1` (the default) runs the app on the event loop's own thread: handing it to
        # a pool thread cost ~50 µs of CPU a request, half a decision (docs/performance.md)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="authz-request") if threads > 1 else None

    async def __call__(self, scope, proto):
        if scope.proto != "http":  # websockets are not served (granian is started without them)
            return
        started = time.monotonic()
        declared = scope.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            proto.response_bytes(*error_answer(413 if declared.isdigit() else 400))
            return
        try:
            async with asyncio.timeout(self.read_seconds):  # no task of its own, unlike wait_for
                raw = await self._body(proto)
        except TimeoutError:
            proto.response_bytes(*error_answer(408))
            return
        except TooLarge:
            proto.response_bytes(*error_answer(413))
            return
        except RSGIProtocolClosed:  # the client went away mid-body: nobody to answer
            return
        environ = self._environ(scope, raw, started)
        try:
            if self.pool is None:  # one thread per worker: this one, the body being whole already
                answer = self._run(environ)
            else:
                answer = await asyncio.get_running_loop().run_in_executor(self.pool, self._run, environ)
        except Exception:  # not the app's own answer (Flask answers its errors): fail closed
            log.exception("request not served")
            answer = error_answer(500)
        proto.response_bytes(*answer)

    async def _body(self, proto) -> bytes:
        """The whole body, refused as soon as it passes the limit."""
        parts, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_body:
                raise TooLarge
            parts.append(chunk)
        return b"".join(parts)

    def _environ(self, scope, raw: bytes, started: float) -> dict:
        """PEP 3333's environ for this request (the body already read, in wsgi.input)."""
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        environ = {
            "REQUEST_METHOD": scope.method, "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(scope.path).decode("latin-1"),
            "QUERY_STRING": scope.query_string, "SERVER_NAME": server_host, "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}", "REMOTE_ADDR": client_host,
            "REMOTE_PORT": client_port, "wsgi.version": (1, 0), "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.input_terminated": True,
            "authz.read_started": started,
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if raw and "CONTENT_LENGTH" not in environ:  # a chunked body, whole now
            environ["CONTENT_LENGTH"] = str(len(raw))
        return environ

    def _run(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        """In a thread: the app's whole answer."""
        seen: dict = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return lambda data: None  # the legacy write(): unused by the app

        result = self.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return int(seen["status"].split(None, 1)[0]), list(seen["headers"]), payload
