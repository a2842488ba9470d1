"""What `authz serve` answers before the app sees a request: every error in the contract's JSON
shape (docs/api.md), never gunicorn's HTML; a request not whole in time is 408
(docs/decisions/017-slow-clients.md)."""

import json
import socket
import time

import pytest

from tests.support.raw_http import answers, parse
from tests.support.server import KEY, Server

DECISION = json.dumps({"user": "rita@acme.example", "action": "port.view", "account": "initech"}).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("http-errors"), workers=1, threads=1,
                     env={"AUTHZ_REQUEST_READ_SECONDS": "1.5"})
    running.load_demo()
    running.start()
    yield running
    running.stop()


def exchange(server, data: bytes, pause: float = 0.0, parts: int = 1) -> tuple[int, dict, bytes]:
    """(status, headers, body) of the one answer to `data`, sent in `parts` pieces."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        step = max(1, len(data) // parts)
        for start in range(0, len(data), step):
            sock.sendall(data[start:start + step])
            time.sleep(pause)
        got = answers(sock, 1)
    return parse(got[0] if got else b"")


def decision_request(extra: bytes = b"", body: bytes = DECISION) -> bytes:
    return (b"POST /v1/authorize HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def assert_json_error(status, headers, body, want_status, want_code):
    assert status == want_status, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == want_code and error["message"] and isinstance(error["details"], dict)


@pytest.mark.parametrize("data, status, code", [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
    (b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "header_fields_too_large"),
    (b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
     431, "header_fields_too_large"),
    (b"GET /healthz HTTP/1.1\r\n" + b"X: " + b"c" * 8000 + b"\r\n" * 1 + b"Y: " + b"c" * 8000 + b"\r\n"
     + b"".join(b"Z%d: " % i + b"d" * 8100 + b"\r\n" for i in range(99)) + b"\r\n", 431, "header_fields_too_large"),
    (b"BR\x00KEN\r\n\r\n", 400, "bad_request"),
    (b"GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400, "bad_request"),
    (b"POST /v1/authorize HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: foo\r\n\r\n", 400, "bad_request"),
    (b"POST /v1/authorize HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad_request"),
    (decision_request(body=b"x" * 2_000_000)[:600], 413, "request_too_large"),
])
def test_gunicorns_own_errors_are_json(server, data, status, code):
    """docs/api.md error shape for what gunicorn answers itself (414, 431, 400, 501, 413): JSON with
    `error.code`, never an HTML page."""
    assert_json_error(*exchange(server, data), status, code)


@pytest.mark.parametrize("status, reason, code", [(500, "Internal Server Error", "internal"),
                                                  (501, "Not Implemented", "not_implemented")])
def test_every_error_gunicorn_writes_is_json(status, reason, code):
    """gunicorn's workers write every error of their own through util.write_error (its 500 on
    a failure outside the app, its 501); once installed, that is the JSON shape too, and a 500
    does not echo what failed."""
    from gunicorn import util

    from authz_service.serving import http_errors

    original = util.write_error
    http_errors.install()
    try:
        left, right = socket.socketpair()
        with left, right:
            util.write_error(left, status, reason, "Traceback: secret detail")
            got = parse(right.recv(65536))
    finally:
        util.write_error = original
    assert_json_error(*got, status, code)
    assert (b"secret" in got[2]) is (status != 500)


def test_a_request_not_whole_in_time_is_408_and_holds_no_thread(server):
    """A head trickled past AUTHZ_REQUEST_READ_SECONDS is 408 in the error shape; while it
    trickles, the only thread of the only worker answers someone else at once."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as slow:
        slow.sendall(b"POST /v1/authorize HTTP/1.1\r\nHost: t\r\n")
        started = time.monotonic()
        status, _, _ = exchange(server, decision_request())
        assert status == 200 and time.monotonic() - started < 1.0  # not behind the slow one
        slow.sendall(b"X-Slow: 1\r\n")
        raw = b""
        while chunk := slow.recv(65536):
            raw += chunk
    assert_json_error(*parse(raw), 408, "request_timeout")


def test_a_body_that_stops_coming_is_408(server):
    """The deadline covers the body too: a head whose body never fully arrives is 408."""
    status, headers, body = exchange(server, decision_request()[:-5])
    assert_json_error(status, headers, body, 408, "request_timeout")


def test_a_request_sent_in_pieces_within_the_deadline_is_served(server):
    """Head and body arriving in many small pieces, within the deadline, are one request."""
    assert exchange(server, decision_request(), pause=0.005, parts=40)[0] == 200


def test_expect_100_continue_and_pipelined_requests(server):
    """A client that waits for `100 Continue` gets it before sending its body; two requests sent
    in one write on one connection get two answers, in order."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        request = decision_request(b"Expect: 100-continue\r\n")
        head, _, body = request.partition(b"\r\n\r\n")
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        answer = b""
        while b'"allowed"' not in answer:
            answer += sock.recv(65536)
        assert answer.count(b"100 Continue") == 0 and b" 200 " in answer
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(decision_request() + decision_request())
        answers = b""
        while answers.count(b'"allowed"') < 2:
            answers += sock.recv(65536)
        assert answers.count(b"HTTP/1.1 200 OK") == 2
