"""serving/inline.py and plain_http.py: a plain decision request served in the worker's poller gets the environ and
the answer bytes gunicorn's own request handling gives it; everything else is left to gunicorn
(docs/decisions/047-inline-decisions.md)."""

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser
from hypothesis import given, settings
from hypothesis import strategies as st

from authz_service.api.fast import ROUTES
from authz_service.serving import plain_http
from authz_service.serving.serve import gunicorn_options

MAX_BODY = 1000
CLIENT, SERVER = ("10.0.0.9", 5123), ("127.0.0.1", 8080)
OBJECTS = {"wsgi.errors", "wsgi.input", "gunicorn.socket", "wsgi.early_hints", "wsgi.file_wrapper"}


def config() -> Config:
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1", 0, 2, 1).items():
        cfg.set(key, value)
    return cfg


CFG = config()
LIMITS = plain_http.limits(CFG)


class Conn:
    sock, client, server = object(), CLIENT, SERVER


class Sent:
    """A socket that keeps what is sent."""

    def __init__(self):
        self.data = b""

    def sendall(self, data):
        self.data += data

    def send(self, data):
        self.data += data
        return len(data)


def request(path="/v1/authorize", headers=(("Host", "a"), ("Content-Type", "application/json")),
            body=b'{"user":"u"}', method="POST", version="1.1", length=None, tail=b"") -> bytes:
    fields = [*headers, ("Content-Length", str(len(body) if length is None else length))]
    head = f"{method} {path} HTTP/{version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("latin-1") + body + tail


def reference(data: bytes):
    """gunicorn's parse of data, its environ, and the body it reads."""
    req = next(RequestParser(CFG, iter([data]), CLIENT))
    environ = wsgi.create(req, Sent(), CLIENT, SERVER, CFG)[1]
    environ["wsgi.multithread"] = True  # as gthread's handle_request sets it
    return req, environ, req.body.read()


def assert_gunicorns_environ(got, data: bytes) -> None:
    """inline's environ for `got` is gunicorn's for data (its object-valued keys aside), and the
    app reads the body gunicorn reads."""
    _, expected, read = reference(data)
    environ = plain_http.environ_for(got, Conn, CFG)
    assert {k: v for k, v in environ.items() if k not in OBJECTS} == \
        {k: v for k, v in expected.items() if k not in OBJECTS}
    assert environ["wsgi.input"].read() == read


def test_the_paths_are_the_fast_paths():
    """PATHS is written out (plain_http.py says why); it must name exactly api/fast.py's routes."""
    assert {path.encode() for path in ROUTES} == plain_http.PATHS


def test_a_plain_request_is_served_inline_with_gunicorns_environ():
    data = request(headers=(("Host", "a"), ("Authorization", "Bearer k"), ("X-Request-Id", "r1"),
                            ("Accept", "a"), ("accept", "b"), ("Content-Type", "application/json")))
    got = plain_http.plain(data, LIMITS, MAX_BODY)
    assert got is not None
    assert_gunicorns_environ(got, data)
    assert got.body == b'{"user":"u"}'
    assert plain_http.environ_for(got, Conn, CFG)["HTTP_ACCEPT"] == "a,b"


@pytest.mark.parametrize("data", [
    request(path="/v1/authorize?x=1"), request(path="/v1/%61uthorize"), request(path="/v1/keys"),
    request(method="PUT"), request(version="1.0"),
    request(headers=(("Transfer-Encoding", "chunked"),)), request(headers=(("Expect", "100-continue"),)),
    request(headers=(("Connection", "close"),)), request(headers=(("Connection", "keep-alive, Upgrade"),)),
    request(headers=(("Upgrade", "h2c"),)), request(headers=(("X_Forwarded_For", "1.2.3.4"),)),
    request(headers=(("Content-Length", "12"),)), request(length="+12"), request(length="0x0c"),
    request(length=11), request(length=13), request(body=b"x" * (MAX_BODY + 1)),
    request(tail=b"POST /v1/authorize HTTP/1.1\r\n"), request(headers=(("Bad Name", "v"),)),
    request(headers=(("X-Long", "v" * 9000),)), request(headers=(("X-Nul", "a\x00b"),)),
    b"\r\n" + request(), request()[:40], b"",
], ids=lambda d: repr(d[:60]))
def test_anything_not_plainly_framed_is_left_to_gunicorn(data):
    """Each: a query, an escaped path, another path, another method or version, a transfer coding,
    Expect, Connection or Upgrade, an underscored name (gunicorn drops it), two or odd lengths, a
    body shorter, longer or over the limit, a pipelined request behind it, malformed or over-long
    fields, a leading empty line, half a head, nothing."""
    assert plain_http.plain(data, LIMITS, MAX_BODY) is None


NAMES = st.sampled_from(["Host", "host", "Content-Type", "content-type", "Authorization", "X-Request-Id",
                         "x-request-id", "Accept", "User-Agent", "X-Forwarded-For", "Cookie", "A"])
VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
                 max_size=30)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(sorted(ROUTES)), headers=st.lists(st.tuples(NAMES, VALUES), max_size=8),
       body=st.binary(max_size=60))
def test_what_is_served_inline_has_gunicorns_environ(path, headers, body):
    """Generated requests: whenever inline takes one, gunicorn parses the same head and body and
    builds the same environ (values trimmed, repeated fields joined, Host and lengths in place)."""
    data = request(path=path, headers=headers, body=body)
    got = plain_http.plain(data, LIMITS, MAX_BODY)
    if got is None:
        with pytest.raises(Exception):  # noqa: B017 - only what gunicorn refuses is left out
            reference(data)
        return
    assert_gunicorns_environ(got, data)
    assert got.body == body


def gunicorns_answer(data: bytes, status: str, headers: list, body: bytes, keep: bool) -> bytes:
    req, _, _ = reference(data)
    sock = Sent()
    resp = wsgi.Response(req, sock, CFG)
    if not keep:
        resp.force_close()
    resp.start_response(status, headers)
    resp.write(body)
    resp.close()
    return sock.data


def without_date(raw: bytes) -> bytes:
    return b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"Date: "))


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from(["200 OK", "400 BAD REQUEST", "401 UNAUTHORIZED", "503 SERVICE UNAVAILABLE"]),
       extra=st.lists(st.tuples(st.sampled_from(["X-Request-Id", "WWW-Authenticate", "Retry-After", "Vary",
                                                 "Server", "Date", "Trailers"]),
                                st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)),
                      max_size=3),
       body=st.binary(max_size=80), keep=st.booleans(), with_length=st.booleans())
def test_the_answer_is_the_bytes_gunicorn_writes(status, extra, body, keep, with_length):
    """The same app response written by inline and by gunicorn's Response: the same bytes but the
    Date field; without a Content-Length gunicorn chunks the body and inline gives its length."""
    headers = [("Content-Type", "application/json"), *extra]
    if with_length:
        headers.append(("Content-Length", str(len(body))))
    answer = plain_http.Answer()
    answer.start_response(status, list(headers))
    mine = plain_http.response_bytes(answer, body, keep)
    if with_length:
        assert without_date(mine) == without_date(gunicorns_answer(request(), status, headers, body, keep))
    else:
        head, _, sent = mine.partition(b"\r\n\r\n")
        assert sent == body and f"Content-Length: {len(body)}".encode() in head.split(b"\r\n")
    assert any(line.startswith(b"Date: ") for line in mine.split(b"\r\n\r\n")[0].split(b"\r\n"))


@pytest.mark.parametrize("headers", [[("Bad Name", "v")], [("X-A", "a\r\nX-B: b")], [(b"X-A", "v")],
                                     [("X-A", 1)], [("Content-Length", "5")]])
def test_an_answer_http_cannot_carry_is_refused(headers):
    """A header field gunicorn would refuse, or a length the body does not have: an error, which
    the worker answers with the JSON 500 instead of sending it."""
    answer = plain_http.Answer()
    with pytest.raises((TypeError, ValueError)):
        answer.start_response("200 OK", headers)
        plain_http.response_bytes(answer, b"{}", True)


def test_hop_by_hop_fields_of_the_app_are_not_sent():
    answer = plain_http.Answer()
    answer.start_response("200 OK", [("Connection", "close"), ("Content-Length", "2"), ("Keep-Alive", "5")])
    head = plain_http.response_bytes(answer, b"{}", True).split(b"\r\n\r\n")[0].split(b"\r\n")
    assert b"Connection: keep-alive" in head and b"Keep-Alive: 5" not in head


def _raw(head: bytes, body: bytes = b'{"user":"u"}') -> bytes:
    return b"POST /v1/authorize HTTP/1.1\r\n" + head + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("data", [
    _raw(b"X-A: a\r\n b\r\n"), _raw(b"X-A a\r\n"), _raw(b"X-A: a \t\r\n"), _raw(b"X-A:\r\n"),
    _raw(b"X-A: a\nX-B: b\r\n"), _raw(b"Host: a\r\nHost: b\r\n"), _raw(b"X-A: \xff\xfe\r\n"),
    _raw(b"Connection: keep-alive\r\n"), _raw(b"connection: Keep-Alive\r\n"), _raw(b"Content-Length: 0012\r\n"), _raw(b"content-length: 12\r\n"), _raw(b" X-A: a\r\n"),
    _raw(b"X-A: a\x7fb\r\n"), _raw(b"X-\xc3\xa9: a\r\n"), _raw(b"Authorization: Bearer \x00\r\n"),
    b"POST /v1/authorize HTTP/1.1\nContent-Length: 2\n\n{}", b"POST  /v1/authorize HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /v1/authorize HTTP/1.1 \r\nContent-Length: 2\r\n\r\n{}", b"POST /v1/authorize HTTP/01.1\r\nContent-Length: 2\r\n\r\n{}",
], ids=lambda d: repr(d[30:70]))
def test_odd_heads_are_gunicorns_or_declined(data):
    """Folded, colon-less, padded, empty, bare-LF, repeated, non-ASCII, zero-led, control-character
    fields, and odd request lines: inline takes one only as gunicorn reads it, and declines every
    one gunicorn refuses."""
    got = plain_http.plain(data, LIMITS, MAX_BODY)
    try:
        reference(data)
    except Exception:  # noqa: BLE001 - refused by gunicorn: inline must leave it to gunicorn
        assert got is None
        return
    if got is not None:
        assert_gunicorns_environ(got, data)
