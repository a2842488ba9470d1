"""Stored decision entries sent to an OTLP/HTTP collector (R7.1, R7.6;
docs/decisions/043-otlp-log-export.md), on both databases, against a loopback collector that
decodes what it takes with OpenTelemetry's own protobuf classes:
- each record's body is the entry as GET /v1/decisions/stream shows it (a JSON line), its time
  the decision's to the microsecond, its attributes the entry number, decision id, action, outcome;
- every entry arrives at least once and in log order: a refused batch is counted and sent again,
  none is skipped; a restarted exporter resumes after the last batch taken."""

import json
import signal
import sqlite3
import time
from datetime import datetime

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from prometheus_client import REGISTRY

from authz_service.log import otlp
from tests.support.auth import bearer
from tests.support.server import Server
from tests.support.stub import Stub

USERS = ["alice@acme.example", "bob@acme.example", "mallory@acme.example"]
CHECK = {"user": "rita@acme.example", "action": "port.view", "account": "initech"}
REFUSED = 400  # not one the exporter retries by itself: one refusal is one failed step


def plain(value):
    """An OTLP AnyValue as the Python value it carries."""
    return getattr(value, value.WhichOneof("value"))


def taken(stub: Stub, refused: int) -> list:
    """The log records of the requests the collector answered 2xx, in the order sent."""
    records = []
    for _, path, body in stub.requests[refused:]:
        assert path == "/v1/logs"
        for resource_logs in ExportLogsServiceRequest.FromString(body).resource_logs:
            for scope_logs in resource_logs.scope_logs:
                records.extend(scope_logs.log_records)
    return records


def same_time(line: dict) -> dict:
    """An entry with its time as a datetime: the stream shows whole seconds without a fraction."""
    return {**line, "at": datetime.fromisoformat(line["at"].removesuffix("Z"))}


def exporter(settings, stub: Stub) -> otlp.Exporter:
    settings.log_otlp_endpoint = stub.url + "/v1/logs"
    return otlp.Exporter(settings, OTLPLogExporter(endpoint=settings.log_otlp_endpoint, timeout=2))


@pytest.fixture
def settings(app, tmp_path):
    settings = app.config["AUTHZ"]
    settings.log_key_file, settings.log_witness_dir = str(tmp_path / "log-key"), str(tmp_path / "witness")
    return settings


def decide(api, rounds: int) -> None:
    for n in range(rounds):
        for user in USERS:
            assert api.authorize(user, "port.view" if n % 2 else "port.edit", "initech").status_code == 200


def test_each_record_is_the_streams_entry_with_its_time_and_ids(app, api, client, settings):
    decide(api, 2)
    stream = client.get("/v1/decisions/stream?after=0", headers=bearer())
    lines = [json.loads(line) for line in stream.get_data(as_text=True).splitlines()]
    assert len(lines) >= 6
    with Stub(answers={"/v1/logs": {}}) as stub:
        assert exporter(settings, stub).step() == len(lines)
        records = taken(stub, 0)
    assert [same_time(json.loads(plain(r.body))) for r in records] == [same_time(line) for line in lines]
    for record, line in zip(records, lines, strict=True):
        at = same_time(line)["at"]
        assert record.time_unix_nano == otlp._epoch_nanos(at) and at.microsecond * 1000 == record.time_unix_nano % 10**9
        attributes = {kv.key: plain(kv.value) for kv in record.attributes}
        assert attributes == {"authz.entry_id": int(line["entry_id"]), "authz.decision_id": line["decision_id"],
                              "authz.action": line["action"], "authz.allowed": line["allowed"]}
        assert record.event_name == otlp.EVENT


def test_a_refused_batch_is_counted_and_sent_again_and_nothing_is_skipped(api, settings, monkeypatch):
    decide(api, 3)
    monkeypatch.setattr(otlp, "BATCH", 4)  # several batches: the cursor moves batch by batch
    failed = REGISTRY.get_sample_value("authz_log_otlp_failures_total") or 0.0
    with Stub(script=lambda _m, _p, n: REFUSED if n <= 2 else 200, answers={"/v1/logs": {}}) as stub:
        sender = exporter(settings, stub)
        assert sender.step() == 0 and sender.step() == 0 and sender.failures == 2
        assert REGISTRY.get_sample_value("authz_log_otlp_failures_total") == failed + 2
        assert sender.last() == 0  # nothing marked delivered while refused
        sent = sender.step()
        numbers = [plain(kv.value) for r in taken(stub, 2) for kv in r.attributes if kv.key == "authz.entry_id"]
    assert sent == 9 and numbers == list(range(1, 10)) and sender.failures == 0


def test_a_restarted_exporter_resumes_after_the_last_batch_taken(api, settings):
    decide(api, 1)
    with Stub(answers={"/v1/logs": {}}) as stub:
        assert exporter(settings, stub).step() == 3
        decide(api, 1)
        again = exporter(settings, stub)  # a new writer process: the cursor is read back
        assert again.last() == 3 and again.step() == 3 and again.step() == 0
        numbers = [plain(kv.value) for r in taken(stub, 0) for kv in r.attributes if kv.key == "authz.entry_id"]
    assert numbers == list(range(1, 7))  # each once: none sent twice when nothing was refused


def test_a_scheme_that_is_not_http_sends_nothing(settings):
    settings.log_otlp_endpoint = "ftp://collector.example/v1/logs"
    assert otlp.start(settings) is None


def batches(stub: Stub) -> list[list[int]]:
    """The entry numbers of each request the collector took, in the order taken."""
    with stub.lock:
        bodies = [body for _, _, body in stub.requests]
    return [[plain(kv.value) for resource in ExportLogsServiceRequest.FromString(body).resource_logs
             for scope in resource.scope_logs for r in scope.log_records
             for kv in r.attributes if kv.key == "authz.entry_id"] for body in bodies]


def test_authz_serve_sends_every_decision_across_a_kill_and_a_restart(tmp_path):
    """The writer's thread as `authz serve` runs it: 30 decisions, kill -9 of the whole server,
    a restart and 10 more: the collector has every stored entry, each batch in log order, and a
    batch never starts past the one before it ended (a copy after the kill, never a gap)."""
    with Stub(answers={"/v1/logs": {}}) as stub:
        server = Server(tmp_path, workers=2, env={"AUTHZ_LOG_OTLP_ENDPOINT": stub.url + "/v1/logs"})
        server.load_demo()
        for rounds in (30, 10):
            server.start()
            try:
                for _ in range(rounds):
                    assert server.call("POST", "/v1/authorize", CHECK)[0] == 200
                for _ in range(300):  # bounded wait for the thread (it looks every second)
                    if {n for batch in batches(stub) for n in batch} >= set(range(1, 31 if rounds == 30 else 41)):
                        break
                    time.sleep(0.05)
            finally:
                server.stop(signal.SIGKILL if rounds == 30 else signal.SIGTERM)
        sent = batches(stub)
    with sqlite3.connect(tmp_path / "authz.db") as db:
        stored = [seq for (seq,) in db.execute("SELECT seq FROM decision ORDER BY seq")]
    assert len(stored) >= 40 and stored == list(range(1, len(stored) + 1))
    assert sorted({n for batch in sent for n in batch}) == stored
    assert all(batch == list(range(batch[0], batch[0] + len(batch))) for batch in sent)
    assert all(b[0] <= a[-1] + 1 for a, b in zip(sent, sent[1:], strict=False))


class FakeProcess:
    def __init__(self, *_args, **_kwargs):
        self.returncode, self.stdin = None, None
        STARTED.append(self)

    def poll(self):
        return self.returncode


STARTED: list[FakeProcess] = []


def test_the_writer_starts_the_exporter_again_when_it_ends_but_at_most_once_a_minute(settings, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(otlp.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(otlp.time, "monotonic", lambda: clock[0])
    STARTED.clear()
    settings.log_otlp_endpoint = "http://127.0.0.1:9/v1/logs"
    child = otlp.start(settings)
    assert child is not None and len(STARTED) == 1
    child.check()
    assert len(STARTED) == 1  # running: left alone
    STARTED[0].returncode = 1
    clock[0] += 10
    child.check()
    assert len(STARTED) == 1  # ended 10 s after it started: not yet
    clock[0] += otlp.RESTART_SECONDS
    child.check()
    assert len(STARTED) == 2 and child.process is STARTED[1]
