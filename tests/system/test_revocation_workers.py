"""R4.6 across worker processes: a revoked link is denied by every worker at once."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.server import Server

LINK = "/v1/customers/hooli/links/lee@acme.example"
CHECK = {"user": "lee@acme.example", "action": "port.create", "account": "hooli"}


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path, workers=2, threads=1)  # one thread each: each takes one at a time
    running.load_demo()
    running.start()
    yield running
    running.stop()


def decide_many(server, count: int) -> list[dict]:
    """`count` authorize calls from 8 concurrent clients, so every worker takes some."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: server.call("POST", "/v1/authorize", CHECK)[1], range(count)))


@pytest.mark.slow
def test_revocation_reaches_every_worker(server):
    """R4.6: link, warm every worker with allows, revoke; 200 later decisions all deny."""
    status, body = server.call("PUT", LINK, {"user": "ada@acme.example", "group": "regular"})
    assert status == 201, body
    for _ in range(20):  # until both workers have booted and answered (each loads the policy)
        assert all(b["allowed"] for b in decide_many(server, 50))
        if len(server.pids_serving("/v1/authorize")) >= 2:
            break
    assert len(server.pids_serving("/v1/authorize")) >= 2, "both workers must have answered"
    status, _ = server.call("DELETE", LINK + "?user=ada@acme.example")
    assert status == 204
    mark = len(server.log.read_text())
    after = decide_many(server, 200)
    stale = [b for b in after if b["allowed"]]
    assert not stale, f"{len(stale)} of 200 decisions still allowed after the revocation"
    assert all(b["group"] is None for b in after)
    served_after = server.log.read_text()[mark:]
    assert len({line.split('"pid": ')[1] for line in served_after.splitlines()
                if '"path": "/v1/authorize"' in line}) >= 2, "both workers must have denied"
