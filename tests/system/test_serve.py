"""`authz demo` then `authz serve`: a real gunicorn answers a curl-style authorize (make run)."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.support import backends
from tests.support.server import AUTHZ, ROOT, Server, free_port, json_headers, post, wait_ready


@pytest.fixture
def served(tmp_path):
    """The demo data and a demo key in a new database, served by 2 gunicorn workers."""
    env = {**os.environ, "AUTHZ_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db", "HOME": str(tmp_path)}
    env.pop("AUTHZ_BOOTSTRAP_KEY", None)
    env.pop("XDG_RUNTIME_DIR", None)  # gunicorn's control socket would go to $HOME/.gunicorn
    demo = subprocess.run([AUTHZ, "demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    key = re.search(r"demo key: (\S+)", demo.stdout).group(1)
    assert "curl" in demo.stdout
    port = free_port()
    server = subprocess.Popen([AUTHZ, "serve", "--port", str(port), "--workers", "2"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_ready(port)
        yield port, key
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.slow
def test_demo_key_answers_an_authorize(served):
    """The quickstart: the printed key and curl line get a decision from the real server."""
    port, key = served
    status, body = post(port, "/v1/authorize", {"user": "rita@acme.example",
                        "action": "port.create", "account": "initech"}, key)
    assert status == 200
    assert body["allowed"] is True and body["group"] == "regular"
    status, body = post(port, "/v1/authorize", {"user": "rita@acme.example",
                        "action": "port.create", "account": "initech"}, "wrong-key")
    assert status == 401 and body["error"]["code"] == "unauthorized"


@pytest.mark.slow
def test_gunicorn_opens_no_control_socket(served, tmp_path):
    """gunicorn's control socket is off: none under $HOME for a second server on the host to
    take over, or for this one's stop to delete (docs/decisions/026-pool-and-workers.md)."""
    port, key = served
    assert post(port, "/v1/authorize", {"user": "rita@acme.example", "action": "port.create",
                "account": "initech"}, key)[0] == 200
    assert not (tmp_path / ".gunicorn").exists()


@pytest.mark.slow
def test_metrics_add_up_every_worker(served):
    """/metrics counts the decisions of both gunicorn workers, whichever one answers the scrape."""
    port, key = served
    for _ in range(40):
        post(port, "/v1/authorize", {"user": "ada@acme.example", "action": "lag.manage_members",
                                     "account": "initech"}, key)
    for _ in range(4):  # any worker answering the scrape sees all 40
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        line = next(x for x in text.splitlines()
                    if x.startswith('authz_decisions_total{action="lag.manage_members",allowed="true"}'))
        assert float(line.split()[-1]) == 40.0


@pytest.mark.slow
def test_an_idle_connection_does_not_hold_a_worker_thread(tmp_path):
    """A client that connects and sends nothing waits in the worker's poller, not in one of
    its threads: with one worker of one thread, another caller is answered meanwhile
    (gunicorn's gthread would hold its thread for 5 s waiting for the idle one's request).
    The idle connection is closed after the keep-alive timeout."""
    from tests.support.server import Server

    server = Server(tmp_path, workers=1, threads=1)
    server.load_demo()
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as idle:
            time.sleep(0.5)  # the worker has accepted it by now
            request = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/v1/authorize", method="POST",
                data=json.dumps({"user": "ada@acme.example", "action": "port.view",
                                 "account": "initech"}).encode(),
                headers=json_headers())
            with urllib.request.urlopen(request, timeout=3) as response:
                assert json.loads(response.read())["allowed"] is True
            idle.settimeout(30)
            assert idle.recv(1) == b""  # closed by the server, having sent nothing
    finally:
        server.stop()


@pytest.mark.slow
def test_one_thread_workers_keep_connections_alive(tmp_path):
    """`--threads 1`: gthread workers with one thread each, which keep a connection alive
    between requests (sync workers would close it after every answer)."""
    import http.client

    from tests.support.server import Server

    server = Server(tmp_path, workers=1, threads=1)
    server.load_demo()
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body = json.dumps({"user": "ada@acme.example", "action": "port.view", "account": "initech"})
        headers = json_headers()
        sockets = []
        for _ in range(3):
            connection.request("POST", "/v1/authorize", body=body, headers=headers)
            response = connection.getresponse()
            assert response.status == 200 and json.loads(response.read())["allowed"] is True
            assert response.getheader("Connection", "").lower() != "close"
            sockets.append(connection.sock)
        assert sockets[0] is not None and sockets.count(sockets[0]) == 3  # one connection throughout
        connection.close()
    finally:
        server.stop()


@backends.SHARES_CHECKOUT_VAR
@pytest.mark.parametrize("backend", backends.available())
def test_serve_migrates_a_new_database_once_in_its_master(tmp_path, backend):
    """docs/decisions/023: on an empty database `authz serve` migrates once, before its log
    writer and workers start (they only bind it); then every worker decides and logs."""
    env = {"AUTHZ_DATABASE_URL": backends.postgres_url(drop=True)} if backend == "postgres" else {}
    server = Server(tmp_path, workers=2, env=env).start()
    try:
        status = server.run_cli("db", "status")
        assert status.returncode == 0 and "pending nothing" in status.stdout, status.stdout
        answers = [server.call("POST", "/v1/authorize", {"user": "nobody@example.com",
                                                          "action": "port.view", "account": "acme"})
                   for _ in range(6)]
        assert {code for code, _ in answers} == {200}, answers
        assert not any(body["allowed"] for _, body in answers)
    finally:
        server.stop()
