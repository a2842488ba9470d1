"""serving/rsgi_bridge.py: granian's RSGI request as PEP 3333's environ, the app's answer back,
and the front's own answers (docs/decisions/032-serving.md; 017's limits)."""

import asyncio
import json

import pytest

from authz_service.serving.rsgi_bridge import Bridge


class Headers(list):
    """RSGI's header mapping: items() gives every header, repeated names included."""

    def items(self):
        return list(self)

    def get(self, name, default=None):
        return next((v for k, v in self if k == name), default)


class Scope:
    proto, method, scheme, http_version = "http", "POST", "http", "1.1"
    server, client, query_string = "127.0.0.1:8080", "10.0.0.9:5123", "a=1"

    def __init__(self, path="/v1/%61uthorize", headers=()):
        self.path, self.headers = path, Headers(headers)


class Proto:
    """Gives its chunks, one per event-loop turn, stalling for good after them if told."""

    def __init__(self, chunks=(), stall=False):
        self.chunks, self.stall, self.sent = list(chunks), stall, None

    def __aiter__(self):
        return self._chunks()

    async def _chunks(self):
        for chunk in self.chunks:
            yield chunk
        if self.stall:
            await asyncio.Event().wait()

    def response_bytes(self, status, headers, body):
        self.sent = (status, dict(headers), body)


def served(app, scope, proto, read_seconds=5.0, max_body=100, threads=1):
    """What the bridge answers; `--threads 1` runs the app on the loop's thread, more in a pool."""
    bridge = Bridge(app, threads, read_seconds, max_body)
    try:
        asyncio.run(bridge(scope, proto))
    finally:
        if bridge.pool is not None:
            bridge.pool.shutdown()
    return proto.sent


@pytest.mark.parametrize("threads", [1, 2])
def test_the_environ_is_pep_3333s_and_the_answer_goes_back_whole(threads):
    """Path decoded, headers as HTTP_* (repeats joined), content headers bare, the body whole in
    wsgi.input, a chunked body given its length; the app's status, headers and body returned."""
    seen = {}

    def app(environ, start_response):
        seen.update(environ, body=environ["wsgi.input"].read())
        start_response("201 CREATED", [("X-Request-Id", "r1")])
        return [b"a", b"b"]

    scope = Scope(headers=[("content-type", "application/json"), ("x-tag", "1"), ("x-tag", "2")])
    assert served(app, scope, Proto([b'{"x":', b"1}"]), threads=threads) == (201, {"X-Request-Id": "r1"}, b"ab")
    assert seen["PATH_INFO"] == "/v1/authorize" and seen["QUERY_STRING"] == "a=1"
    assert seen["CONTENT_TYPE"] == "application/json" and "HTTP_CONTENT_TYPE" not in seen
    assert seen["HTTP_X_TAG"] == "1,2" and seen["REMOTE_ADDR"] == "10.0.0.9"
    assert seen["body"] == b'{"x":1}' and seen["CONTENT_LENGTH"] == "7"


def never(environ, start_response):  # pragma: no cover - the front answers before the app
    raise AssertionError("the app was called")


def error_of(sent) -> tuple[int, str]:
    return sent[0], json.loads(sent[2])["error"]["code"]


def test_a_stalled_body_is_408_and_never_reaches_a_thread():
    """017: a body not whole within the read deadline is answered 408 by the front."""
    assert error_of(served(never, Scope(), Proto([b"{"], stall=True), read_seconds=0.2)) == (
        408, "request_timeout")


def test_a_body_over_the_limit_is_413_declared_or_growing():
    """A declared length over the limit is refused unread; a chunked body as it passes it."""
    declared = Scope(headers=[("content-length", "101")])
    assert error_of(served(never, declared, Proto(stall=True))) == (413, "request_too_large")
    assert error_of(served(never, Scope(), Proto([b"x" * 60, b"x" * 60], stall=True))) == (
        413, "request_too_large")
    assert error_of(served(never, Scope(headers=[("content-length", "1e3")]), Proto())) == (
        400, "bad_request")


@pytest.mark.parametrize("threads", [1, 2])
def test_an_app_that_fails_outside_flask_is_a_500_in_the_error_shape(threads):
    """Fail closed: a failure the app did not answer itself is 500 `internal`, no detail."""
    def broken(environ, start_response):
        raise RuntimeError("secret detail")

    sent = served(broken, Scope(), Proto([b"{}"]), threads=threads)
    assert error_of(sent) == (500, "internal") and b"secret" not in sent[2]
