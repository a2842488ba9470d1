"""Stored decision entries as OpenTelemetry log records, sent to an OTLP/HTTP collector
(R7.1, R7.6; docs/decisions/043-otlp-log-export.md).

AUTHZ_LOG_OTLP_ENDPOINT (say http://collector:4318/v1/logs) turns it on. A thread of the log
writer reads the entries stored after the last one delivered, oldest first, as
GET /v1/decisions/stream does (committed rows, by the entry number's index), sends up to BATCH
of them a request with the OpenTelemetry SDK's OTLP/HTTP exporter, and writes the number of
the last entry delivered to `<witness folder>.otlp` only once the collector has taken the
batch: every entry at least once, in log order. A refusal is counted
(authz_log_otlp_failures_total) and the same batch retried after 1, 2, 4 ... 60 s; decisions and
the writer's own loop never wait for it. The standard OTEL_EXPORTER_OTLP_LOGS_* variables
(headers, certificate, timeout, compression) configure the exporter.

Each record: the decision's time, event name `authz.decision`, severity INFO, the body the
entry as the stream shows it (a map; null fields left out, as OTLP values cannot be null), and
the attributes `authz.entry_id` and `authz.decision_id`, by which a collector can drop a copy.
"""

import logging
import os
import time
from datetime import UTC, datetime

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.resources import Resource

from authz_service import metrics, store
from authz_service.log import audit, checkpoints
from authz_service.log.retrying import Retrying
from authz_service.private_files import write_secret
from authz_service.store import decisions, log_reads
from authz_service.store.entry_form import canonical_at

log = logging.getLogger("authz.log_writer")
BATCH = 500
EVENT = "authz.decision"
_EPOCH = datetime(1970, 1, 1)


def body(row: dict) -> dict:
    """The entry as GET /v1/decisions/stream shows it, its nulls left out."""
    shown = {**audit.item(row), "leaf_index": row["leaf_index"]}
    if isinstance(shown["at"], datetime):
        shown["at"] = canonical_at(shown["at"]) + "Z"
    return _without_nulls(shown)


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _epoch_nanos(at: datetime) -> int:
    """A naive UTC time (or an aware one) as nanoseconds since 1970, without float rounding."""
    delta = at - (_EPOCH if at.tzinfo is None else _EPOCH.replace(tzinfo=UTC))
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def record(row: dict, resource: Resource) -> ReadableLogRecord:
    """One entry as an OpenTelemetry log record (the SDK's readable form, which exporters take)."""
    at = row["at"] if isinstance(row["at"], datetime) else datetime.fromisoformat(row["at"])
    entry = LogRecord(timestamp=_epoch_nanos(at), observed_timestamp=time.time_ns(), severity_text="INFO",
                      severity_number=SeverityNumber.INFO, body=body(row), event_name=EVENT,
                      attributes={"authz.entry_id": int(row["seq"]), "authz.decision_id": row["id"]})
    return ReadableLogRecord(log_record=entry, resource=resource)


class Exporter(Retrying):
    """Sends the entries after the last delivered, a batch at a time, each batch until taken."""

    def __init__(self, settings, exporter=None):
        super().__init__()
        self.endpoint = settings.log_otlp_endpoint
        self.state = checkpoints.witness_dir(settings).rstrip(os.sep) + ".otlp"
        self.exporter = exporter or OTLPLogExporter(endpoint=self.endpoint)
        self.resource = Resource.create({"service.name": "authz-service",
                                         "authz.log.origin": checkpoints.signer(settings).name})
        self.what = f"decision entries not sent to {self.endpoint}"

    def last(self) -> int:
        """The number of the last entry the collector took (0: none yet)."""
        try:
            with open(self.state, encoding="utf-8") as kept:
                return int(kept.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def step(self) -> int:
        """Send every entry stored after the last delivered; how many were taken. Stops at the
        first refusal (counted; the next step sends the same entries again)."""

        done, last = 0, self.last()
        while True:
            with store.connection():
                rows, newest, archived = log_reads.after(last, BATCH), log_reads.newest_seq(), decisions.anchor()[0]
            metrics.LOG_OTLP_LAG.set(max(0, newest - last))
            if not rows:
                return done
            if rows[0]["seq"] != last + 1:  # archived before it was sent: say so, never silently
                log.warning("decision entries %d to %d were archived before they were sent to %s",
                            last + 1, min(archived, rows[0]["seq"] - 1), self.endpoint)
            result = self.exporter.export([record(row, self.resource) for row in rows])
            if result is not LogRecordExportResult.SUCCESS:
                self.failures += 1
                metrics.LOG_OTLP_FAILED.inc()
                log.warning("decision entries %d to %d not sent to %s (try %d)", rows[0]["seq"],
                            rows[-1]["seq"], self.endpoint, self.failures)
                return done
            last = rows[-1]["seq"]
            write_secret(self.state, str(last))
            self.failures, done = 0, done + len(rows)
            metrics.LOG_OTLP_SENT.inc(len(rows))


def start(settings) -> Retrying | None:
    """An exporting thread (daemon) when AUTHZ_LOG_OTLP_ENDPOINT is set; None otherwise."""
    endpoint = settings.log_otlp_endpoint
    if not endpoint:
        return None
    if not endpoint.lower().startswith(("http://", "https://")):
        log.error("AUTHZ_LOG_OTLP_ENDPOINT is an http(s) URL, not %s: nothing is sent",
                  endpoint.split("://")[0] + "://...")
        return None
    return Exporter(settings).start("authz-otlp-export")
