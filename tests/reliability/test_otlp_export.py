"""Stored decision entries sent to an OTLP/HTTP collector (R7.1, R7.6;
docs/decisions/043-otlp-log-export.md), on both databases, against a loopback collector that
decodes what it takes with OpenTelemetry's own protobuf classes:
- each record's body is the entry exactly as GET /v1/decisions/stream shows it (nulls left out),
  its time the decision's, its attributes the entry number and decision id;
- every entry arrives at least once and in log order: a refused batch is counted and sent again,
  none is skipped; a restarted exporter resumes after the last batch taken."""

import json
from datetime import datetime

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from prometheus_client import REGISTRY

from authz_service.log import otlp
from tests.support.auth import bearer
from tests.support.stub import Stub

USERS = ["alice@acme.example", "bob@acme.example", "mallory@acme.example"]
REFUSED = 400  # not one the exporter retries by itself: one refusal is one failed step


def plain(value):
    """An OTLP AnyValue as the Python value it carries."""
    kind = value.WhichOneof("value")
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [plain(v) for v in value.array_value.values]
    return getattr(value, kind)


def taken(stub: Stub, refused: int) -> list:
    """The log records of the requests the collector answered 2xx, in the order sent."""
    records = []
    for _, path, body in stub.requests[refused:]:
        assert path == "/v1/logs"
        for resource_logs in ExportLogsServiceRequest.FromString(body).resource_logs:
            for scope_logs in resource_logs.scope_logs:
                records.extend(scope_logs.log_records)
    return records


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


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
    assert [plain(r.body) for r in records] == [without_nulls(line) for line in lines]
    for record, line in zip(records, lines, strict=True):
        at = datetime.fromisoformat(line["at"].removesuffix("Z"))
        assert record.time_unix_nano == otlp._epoch_nanos(at) and at.microsecond * 1000 == record.time_unix_nano % 10**9
        attributes = {kv.key: plain(kv.value) for kv in record.attributes}
        assert attributes == {"authz.entry_id": int(line["entry_id"]), "authz.decision_id": line["decision_id"]}
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
