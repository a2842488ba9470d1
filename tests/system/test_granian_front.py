"""`authz serve --server granian` (docs/decisions/032-serving.md): the same app, the same log
writer, access log, request ids and metrics, and 017's rule that no thread waits for a client:
a body that stops coming is 408 while the only thread serves others, an over-limit body is 413
at once, both in the contract's error shape (R10.1's fail-closed answers stay the app's)."""

import json
import os
import signal
import socket
import time

import pytest

from tests.support.server import KEY, Server, wait_ready

pytestmark = pytest.mark.slow

DECISION = {"user": "rita@acme.example", "action": "port.view", "account": "initech"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One worker of one thread: anything that held the thread would stop every other caller."""
    running = Server(tmp_path_factory.mktemp("granian"), workers=1, threads=1, server="granian",
                     env={"AUTHZ_REQUEST_READ_SECONDS": "2", "AUTHZ_MAX_BODY_BYTES": "4096"})
    running.load_demo()
    running.start()
    yield running
    running.stop()


def head(length: int | str, extra: bytes = b"") -> bytes:
    return (b"POST /v1/authorize HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: " + str(length).encode()
            + b"\r\n" + extra + b"\r\n")


def answer(sock: socket.socket) -> tuple[int, dict, dict]:
    """(status, lower-cased headers, JSON body) of the one answer on sock, read to its close."""
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    top, _, body = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_decisions_keep_their_request_id_access_log_and_metrics(server):
    """A decision on the fast path: 200, the caller's X-Request-Id echoed, one JSON access-log
    line with that id, and /metrics counting it (prometheus's folder shared by the workers)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        body = json.dumps(DECISION).encode()
        sock.sendall(head(len(body), b"X-Request-Id: granian-check-1\r\nConnection: close\r\n") + body)
        status, headers, got = answer(sock)
    assert status == 200 and got["allowed"] is True
    assert headers["x-request-id"] == "granian-check-1"
    lines = [json.loads(x) for x in server.log.read_text().splitlines() if x.startswith("{")]
    assert [x["status"] for x in lines if x["request_id"] == "granian-check-1"] == [200]
    assert 'authz_decisions_total{action="port.view",allowed="true"}' in server.call_text("/metrics")


def test_a_body_that_stops_coming_is_408_while_the_thread_serves_others(server):
    """017 under granian: a head whose body never fully arrives holds no thread (another caller
    is answered while it waits) and is answered 408 request_timeout after the read deadline."""
    body = json.dumps(DECISION).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as slow:
        slow.sendall(head(len(body)) + body[:-5])
        time.sleep(0.3)  # the worker has the head and waits for the rest
        assert server.call("POST", "/v1/authorize", DECISION)[0] == 200
        slow.setblocking(False)
        with pytest.raises(BlockingIOError):  # the slow one is still waiting, not answered first
            slow.recv(1)
        slow.setblocking(True)
        status, headers, got = answer(slow)
    assert status == 408 and got["error"]["code"] == "request_timeout"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("data", [
    head(2_000_000) + b"x" * 500,  # a declared length over AUTHZ_MAX_BODY_BYTES: not waited for
    head("", b"Transfer-Encoding: chunked\r\n").replace(b"Content-Length: \r\n", b"")
    + b"".join(b"400\r\n" + b"y" * 1024 + b"\r\n" for _ in range(8)),  # chunked, growing past it
])
def test_a_body_over_the_limit_is_413_without_waiting_for_it(server, data):
    """The whole body is never awaited: 413 request_too_large as soon as it cannot fit."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(data)
        status, _, got = answer(sock)
    assert status == 413 and got["error"]["code"] == "request_too_large"


def test_a_worker_killed_is_replaced(tmp_path):
    """kill -9 of granian's only worker: the master starts another, which answers decisions."""
    server = Server(tmp_path, workers=1, threads=1, server="granian")
    server.load_demo()
    server.start()
    try:
        before = server.pids_serving("/readyz")  # the worker that answered start()'s readiness check
        (worker,) = before
        os.kill(int(worker.strip("<>")), signal.SIGKILL)
        wait_ready(server.port)  # its successor answers
        assert server.call("POST", "/v1/authorize", DECISION)[0] == 200
        assert server.pids_serving("/readyz") - before
    finally:
        server.stop()
