"""`authz serve`'s JSON access log: a line per request, with the X-Request-Id it answered (docs/deploy.md)."""

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from authz_service.serving.access_log import JsonAccessLogger

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
