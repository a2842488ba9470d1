"""Stored decision entries as OpenTelemetry log records, sent to an OTLP/HTTP collector
(R7.1, R7.6; docs/decisions/043-otlp-log-export.md).

AUTHZ_LOG_OTLP_ENDPOINT (say http://collector:4318/v1/logs) turns it on. A child process of
the log writer, at low priority, reads the entries stored after the last one delivered, oldest first, as
GET /v1/decisions/stream does (committed rows, by the entry number's index), sends up to BATCH
of them a request with the OpenTelemetry SDK's OTLP/HTTP exporter, and writes the number of
the last entry delivered to `<witness folder>.otlp` only once the collector has taken the
batch: every entry at least once, in log order. A refusal is counted
(authz_log_otlp_failures_total) and the same batch retried after 1, 2, 4 ... 60 s; decisions and
the writer never wait for it, nor share an interpreter with it. The standard OTEL_EXPORTER_OTLP_LOGS_* variables
(headers, certificate, timeout, compression) configure the exporter.

Each record: the decision's time, event name `authz.decision`, severity INFO, the body the
entry as a line of the stream (a JSON string: a collector's json parser makes it fields; a map
body costs the SDK's encoder ten times as much), and the attributes `authz.entry_id` and
`authz.decision_id` (by which a collector can drop a copy), `authz.action` and `authz.allowed`.
"""

import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.resources import Resource

from authz_service import metrics, store
from authz_service.config import Settings
from authz_service.log import audit, checkpoints
from authz_service.log.retrying import Retrying
from authz_service.private_files import write_secret
from authz_service.store import decisions, log_reads
from authz_service.store.entry_form import canonical_at

log = logging.getLogger("authz.log_writer")
BATCH = 500
RESTART_SECONDS = 60.0
EVENT = "authz.decision"
_EPOCH = datetime(1970, 1, 1)


def body(row: dict) -> str:
    """The entry as a line of GET /v1/decisions/stream (JSON), its time with microseconds."""
    shown = {**audit.item(row), "leaf_index": row["leaf_index"]}
    if isinstance(shown["at"], datetime):
        shown["at"] = canonical_at(shown["at"]) + "Z"
    return json.dumps(shown, ensure_ascii=False)


def _epoch_nanos(at: datetime) -> int:
    """A naive UTC time (or an aware one) as nanoseconds since 1970, without float rounding."""
    delta = at - (_EPOCH if at.tzinfo is None else _EPOCH.replace(tzinfo=UTC))
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def record(row: dict, resource: Resource) -> ReadableLogRecord:
    """One entry as an OpenTelemetry log record (the SDK's readable form, which exporters take)."""
    at = row["at"] if isinstance(row["at"], datetime) else datetime.fromisoformat(row["at"])
    entry = LogRecord(timestamp=_epoch_nanos(at), observed_timestamp=time.time_ns(), severity_text="INFO",
                      severity_number=SeverityNumber.INFO, body=body(row), event_name=EVENT,
                      attributes={"authz.entry_id": int(row["seq"]), "authz.decision_id": row["id"],
                                  "authz.action": row["action"], "authz.allowed": bool(row["allowed"])})
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
                rows, newest = log_reads.after(last, BATCH), log_reads.newest_seq()
                archived = decisions.anchor()[0] if rows and rows[0]["seq"] != last + 1 else 0
            metrics.LOG_OTLP_LAG.set(max(0, newest - last))
            if not rows:
                return done
            if archived:  # archived before it was sent: say so, never silently
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


class Child:
    """The exporter as a child process of the log writer at low priority: its encoding must not
    hold the writer's interpreter. Polled from the writer's loop: one that ended is started
    again, at most once a minute; it ends itself when the writer is gone (its stdin closes)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.started = -RESTART_SECONDS

    def check(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if self.process is not None:
            log.warning("the OTLP exporter ended (exit %s)", self.process.returncode)
        if time.monotonic() - self.started >= RESTART_SECONDS:
            self.started = time.monotonic()
            self.process = subprocess.Popen([sys.executable, "-m", "authz_service.log.otlp"],
                                            stdin=subprocess.PIPE)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process = None


def start(settings) -> Child | None:
    """The exporting process when AUTHZ_LOG_OTLP_ENDPOINT is set (an http(s) URL); None otherwise."""
    endpoint = settings.log_otlp_endpoint
    if not endpoint:
        return None
    if not endpoint.lower().startswith(("http://", "https://")):
        log.error("AUTHZ_LOG_OTLP_ENDPOINT is an http(s) URL, not %s: nothing is sent",
                  endpoint.split("://")[0] + "://...")
        return None
    child = Child()
    child.check()
    return child


def main() -> None:
    """`python -m authz_service.log.otlp`: send until stdin closes (the log writer is gone)."""
    os.nice(10)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    store.connect(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    exporter = Exporter(settings)

    def until_the_writer_is_gone() -> None:
        sys.stdin.buffer.read()
        exporter.stop()

    threading.Thread(target=until_the_writer_is_gone, daemon=True).start()
    exporter.run()


if __name__ == "__main__":
    main()
