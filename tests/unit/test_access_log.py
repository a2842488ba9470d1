"""`authz serve`'s JSON access log: a line per request, with the X-Request-Id it answered (docs/deploy.md)."""

import json
import logging
import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from authz_service.serving import access_log
from authz_service.serving.access_log import JsonAccessLogger
from tests.support.forked import in_child

FIELDS = {"time", "remote", "method", "path", "status", "bytes", "duration_us", "pid", "request_id"}


@pytest.fixture
def new_logger(monkeypatch):
    """A JsonAccessLogger writing to a file, its logger holding only gunicorn's handler
    (pytest adds capture handlers to loggers, which would send every line through logging)."""

    made: list[logging.Handler] = []

    def make(accesslog: str) -> JsonAccessLogger:
        cfg = Config()
        cfg.set("accesslog", accesslog)
        logger = JsonAccessLogger(cfg)
        ours = [h for h in logger.access_log.handlers if getattr(h, "_gunicorn", False)]
        monkeypatch.setattr(logger.access_log, "handlers", ours)
        made.extend(ours)
        return logger

    yield make
    for handler in made:  # its file, else a ResourceWarning when the collector finds it open
        handler.close()


def _request(logger: JsonAccessLogger, request_id: str = "rid-1") -> None:
    resp = SimpleNamespace(status="200 OK", headers=[("X-Request-Id", request_id)], sent=94)
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "POST", "PATH_INFO": "/v1/authorize"}
    logger.access(resp, None, environ, timedelta(microseconds=1234))


def test_file_access_log_gets_one_json_object_per_request(tmp_path, new_logger, monkeypatch):
    """The direct write: one line per request, every field, the request id echoed (R8.3)."""
    path = tmp_path / "access.log"
    logger = new_logger(str(path))
    monkeypatch.setattr(logger.access_log, "info", None)  # not through logging
    _request(logger, "rid-1")
    _request(logger, "rid-2")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["request_id"] for line in lines] == ["rid-1", "rid-2"]
    assert set(lines[0]) == FIELDS
    assert (lines[0]["status"], lines[0]["duration_us"], lines[0]["path"]) == (200, 1234, "/v1/authorize")


def test_reopened_file_gets_the_next_lines(tmp_path, new_logger):
    """After gunicorn reopens its files (USR1, log rotation), lines go to the new file."""
    path = tmp_path / "access.log"
    logger = new_logger(str(path))
    _request(logger, "before")
    path.rename(tmp_path / "access.log.1")
    logger.reopen_files()
    _request(logger, "after")
    assert json.loads(path.read_text())["request_id"] == "after"
    assert json.loads((tmp_path / "access.log.1").read_text())["request_id"] == "before"


@pytest.mark.parametrize("change", ["filter", "format"])
def test_other_handlers_get_the_line_through_logging(tmp_path, change, new_logger):
    """A handler that filters or formats the record is given a LogRecord, as before."""
    path = tmp_path / "access.log"
    logger = new_logger(str(path))
    handler = logger.access_log.handlers[0]
    if change == "filter":
        handler.addFilter(lambda record: "drop-me" not in record.getMessage())
    else:
        handler.setFormatter(logging.Formatter("access %(message)s"))
    _request(logger, "drop-me")
    _request(logger, "keep")
    lines = path.read_text().splitlines()
    if change == "filter":
        assert [json.loads(line)["request_id"] for line in lines] == ["keep"]
    else:
        assert all(line.startswith("access {") for line in lines) and len(lines) == 2


TEXTS = st.text(st.characters(codec="utf-8"), max_size=20)


@settings(max_examples=300, deadline=None)
@given(remote=TEXTS, method=st.none() | TEXTS, path=st.none() | TEXTS, request_id=st.none() | TEXTS,
       status=st.sampled_from(["200 OK", "404 NOT FOUND", "500", 204]), sent=st.integers(0, 10**9) | st.just("-"),
       duration=st.integers(0, 10**12))
def test_the_line_is_what_json_dumps_writes(remote, method, path, request_id, status, sent, duration):
    """access_log.line builds the text without a dict: byte for byte json.dumps's, whatever the
    request sent (quotes, control characters, any Unicode)."""
    environ = {"REMOTE_ADDR": remote, "REQUEST_METHOD": method, "PATH_INFO": path}
    headers = [("X-Request-Id", request_id)] if request_id is not None else [("Content-Type", "x")]
    expected = json.dumps({
        "time": access_log._stamp(), "remote": remote, "method": method, "path": path,
        "status": int(str(status).split(None, 1)[0]), "bytes": str(sent), "duration_us": duration,
        "pid": f"<{os.getpid()}>", "request_id": request_id if request_id is not None else "-"})
    assert access_log.line(status, headers, sent, environ, duration) == expected


def test_a_forked_worker_names_its_own_pid():
    """The pid is kept, not asked at every line: a worker forked after it was kept names its own."""
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "POST", "PATH_INFO": "/v1/authorize"}
    assert json.loads(access_log.line("200 OK", [], 1, environ, 1))["pid"] == f"<{os.getpid()}>"
    child, theirs = in_child(lambda: access_log.line("200 OK", [], 1, environ, 1))
    assert json.loads(theirs)["pid"] == f"<{child}>"


class CountingStream:
    """A stream that keeps each write apart."""

    def __init__(self):
        self.writes: list[str] = []

    def write(self, text):
        self.writes.append(text)

    def flush(self):
        pass


def test_a_turns_lines_are_written_together_in_order(tmp_path, new_logger):
    """serving/inline.py writes a turn's access lines with access_lines: to a plain handler, one
    write holding one line per request, in the order given (docs/decisions/053)."""
    logger = new_logger(str(tmp_path / "access.log"))
    handler = logger.access_log.handlers[0]
    handler.stream.close()
    handler.stream = stream = CountingStream()
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "POST", "PATH_INFO": "/access/v1/evaluation"}
    rows = [("200 OK", [("X-Request-Id", f"r{n}")], 10, environ, n) for n in range(3)]
    logger.access_lines(rows)
    assert len(stream.writes) == 1
    assert [json.loads(text)["request_id"] for text in stream.writes[0].splitlines()] == ["r0", "r1", "r2"]


def test_a_row_whose_line_fails_leaves_the_others(tmp_path, new_logger):
    """A row access_log.line cannot write (a status that is no number) is reported in the error
    log; the turn's other lines are still written."""
    path = tmp_path / "access.log"
    logger = new_logger(str(path))
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "POST", "PATH_INFO": "/v1/authorize"}
    logger.access_lines([("200 OK", [("X-Request-Id", "a")], 1, environ, 1),
                         ("not a status", [], 1, environ, 1),
                         ("200 OK", [("X-Request-Id", "b")], 1, environ, 1)])
    assert [json.loads(text)["request_id"] for text in path.read_text().splitlines()] == ["a", "b"]
