"""serving/inline.py's turn: the plain requests one poll reports are served under one read of the
facts' epoch (store/kept_facts.one_read, R4.6), and their access lines are written together once
the turn is over (docs/decisions/053)."""

import pytest
from gunicorn.workers.gthread import ThreadWorker

from authz_service.serving import plain_http
from authz_service.store import kept_facts
from tests.support.inline_worker import Conn, worker

BODY = b'{"decision":true}'


def request(request_id: str) -> plain_http.Plain:
    return plain_http.Plain("/access/v1/evaluation", [("X-Request-Id", request_id)], b"{}")


def app_seeing(states: list):
    """A decision app that, as api/fast.py does, reads inside its own one_read; it notes whether
    the epoch had been read before it (by an earlier request of the same turn)."""
    def app(environ, start_response):
        with kept_facts.one_read():
            states.append(kept_facts._kept.once)
            kept_facts._kept.once = True  # as read_through leaves it once it has read the epoch
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("X-Request-Id", environ["HTTP_X_REQUEST_ID"])])
        return [BODY]
    return app


@pytest.fixture
def one_poll(monkeypatch):
    """gunicorn's poll and dispatch, replaced by serving the given requests in turn."""
    def serve(requests):
        def dispatch(self, timeout):
            for request_id in requests:
                assert self._serve(Conn(), request(request_id))
        monkeypatch.setattr(ThreadWorker, "wait_for_and_dispatch_events", dispatch)
    return serve


def test_a_turns_requests_share_one_epoch_read(one_poll):
    """The first request of a turn reads the epoch; the next ones of the same turn use it; the
    next turn reads it again (R4.6: each of them was sent before the turn's first read)."""
    states: list = []
    one = worker(app_seeing(states))
    one_poll(["a", "b", "c"])
    one.wait_for_and_dispatch_events(1.0)
    assert states == [False, True, True]
    assert kept_facts._kept.once is None  # after the turn, each use reads again
    one.wait_for_and_dispatch_events(1.0)
    assert states[3:] == [False, True, True]


def test_a_turns_access_lines_are_written_once_it_is_over(one_poll):
    """One call for the turn, one row per request, in the order served; none while it runs."""
    one = worker(app_seeing([]))
    one_poll(["a", "b", "c"])
    one.wait_for_and_dispatch_events(1.0)
    assert len(one.log.calls) == 1
    assert [dict(row[1])["X-Request-Id"] for row in one.log.calls[0]] == ["a", "b", "c"]
    assert [row[0] for row in one.log.calls[0]] == ["200 OK"] * 3
    assert one.held is None


def test_a_request_served_outside_a_turn_is_written_at_once():
    """_serve called on its own (no turn) writes its line before it returns."""
    one = worker(app_seeing([]))
    assert one._serve(Conn(), request("alone"))
    assert [[dict(row[1])["X-Request-Id"] for row in call] for call in one.log.calls] == [["alone"]]


def test_what_follows_a_threads_request_reads_the_epoch_anew(monkeypatch):
    """Bytes a pool thread read behind the request it served (a pipelined request, served from
    finish_request) may have come after the turn's first read: they are served with a read of
    their own (R4.6), and the rest of the turn uses that newer one."""
    from authz_service.serving.request_reader import ReadFirstWorker

    seen: list = []
    monkeypatch.setattr(ReadFirstWorker, "finish_request", lambda self, conn, fs: seen.append(kept_facts._kept.once))
    one = worker(app_seeing([]))

    def dispatch(self, timeout):
        assert self._serve(Conn(), request("a"))  # reads the epoch
        self.finish_request(Conn(), None)
    monkeypatch.setattr(ThreadWorker, "wait_for_and_dispatch_events", dispatch)
    one.wait_for_and_dispatch_events(1.0)
    assert seen == [False]
