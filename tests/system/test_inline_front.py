"""`authz serve` as shipped (one thread a worker) answers a plain decision request in the worker's
poller (serving/inline.py) exactly as gunicorn's request handling answers it: the same status,
header fields in the same order, the same body but for the decision's own ids, on a connection
kept alive the same way (docs/decisions/047-inline-decisions.md; R7.1: each recorded once)."""

import json
import socket
import time

import pytest

from tests.support.raw_http import answers, parse
from tests.support.server import KEY, Server

DECISIONS = [
    ("/v1/authorize", {"user": "rita@acme.example", "action": "port.view", "account": "initech"}),
    ("/v1/authorize", {"user": "rita@acme.example", "action": "port.delete", "account": "acme"}),
    ("/access/v1/evaluation", {"subject": {"type": "user", "id": "rita@acme.example"},
                               "action": {"name": "port.view"}, "resource": {"type": "account", "id": "initech"}}),
    ("/access/v1/evaluations", {"subject": {"type": "user", "id": "rita@acme.example"},
                                "evaluations": [{"action": {"name": "port.view"},
                                                 "resource": {"type": "account", "id": "initech"}}] * 3}),
    ("/v1/authorize", {"user": "rita@acme.example", "action": "no.such.action", "account": "initech"}),
    ("/v1/authorize", {"user": 7}),
    ("/access/v1/evaluation", {"subject": {"type": "user"}}),
]
VARYING = {"decision_id", "request_id", "id", "x-request-id", "date"}  # a decision's own, or the clock's


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("inline"), workers=1)  # `authz serve`'s default threads
    running.load_demo()
    running.start()
    yield running
    running.stop()


def request(path: str, body, extra: bytes = b"", key: str = KEY) -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: {len(raw)}\r\n").encode() + extra + b"\r\n" + raw


def sent(server, data: bytes, count: int = 1, pause: float = 0.0) -> list[bytes]:
    """The answers to data on one connection; with a pause, the head and the body apart."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        if pause:
            head, _, body = data.partition(b"\r\n\r\n")
            sock.sendall(head + b"\r\n\r\n")
            time.sleep(pause)
            data = body
        sock.sendall(data)
        return answers(sock, count)


def steady(raw: bytes) -> tuple:
    """An answer without what differs between two answers to the same request."""
    status, headers, body = parse(raw)
    names = [line.split(b":")[0].decode() for line in raw.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]]
    payload = json.loads(body)
    return status, names, {k: v for k, v in headers.items() if k not in VARYING}, _strip(payload)


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@pytest.mark.parametrize(("path", "body"), DECISIONS, ids=lambda v: str(v)[:40])
def test_the_same_answer_as_gunicorns_handling(server, path, body):
    """An underscored header field is dropped by gunicorn and makes inline leave the request to it:
    the two requests reach the app alike, one served each way."""
    inline = sent(server, request(path, body))[0]
    reference = sent(server, request(path, body, b"X_Ignored: 1\r\n"))[0]
    assert steady(inline) == steady(reference)
    assert parse(inline)[0] in (200, 400)


def test_a_keep_alive_field_is_answered_alike(server):
    """`requests` and some gateways send `Connection: keep-alive`: served inline, as gunicorn would."""
    path, body = DECISIONS[2]
    inline = sent(server, request(path, body, b"Connection: keep-alive\r\n"))[0]
    reference = sent(server, request(path, body, b"Connection: keep-alive\r\nX_Ignored: 1\r\n"))[0]
    assert steady(inline) == steady(reference)
    assert parse(inline)[1]["connection"] == "keep-alive"


def test_kept_alive_then_closed_on_request(server):
    path, body = DECISIONS[0]
    data = request(path, body)
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        for _ in range(3):
            sock.sendall(data)
            status, headers, _ = parse(answers(sock, 1)[0])
            assert (status, headers["connection"]) == (200, "keep-alive")
        sock.sendall(request(path, body, b"Connection: close\r\n"))
        status, headers, _ = parse(answers(sock, 1)[0])
        assert (status, headers["connection"]) == (200, "close")
        assert sock.recv(100) == b""


def test_pipelined_and_split_requests_are_answered_in_order(server):
    first, second = (request(path, body) for path, body in DECISIONS[:2])
    got = [parse(raw) for raw in sent(server, first + second, count=2)]
    assert [json.loads(body)["allowed"] for _, _, body in got] == [True, False]
    assert [parse(raw)[0] for raw in sent(server, first, pause=0.3)] == [200]


def test_an_inline_answer_is_in_the_access_log(server):
    path, body = DECISIONS[0]
    request_id = "inline-" + str(time.time_ns())
    status, headers, _ = parse(sent(server, request(path, body, f"X-Request-Id: {request_id}\r\n".encode()))[0])
    assert (status, headers["x-request-id"]) == (200, request_id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log.read_text().splitlines() if request_id in line]
        if lines:
            assert [(x["method"], x["path"], x["status"]) for x in lines] == [("POST", path, 200)]
            return
        time.sleep(0.1)
    raise AssertionError("no access line for the request")
