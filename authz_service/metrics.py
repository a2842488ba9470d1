"""Prometheus metrics: decisions by action and outcome, latency, log batches, outbox depth."""

import collections
import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily

from authz_service import this_process


def _pid_kept() -> None:
    """Under `authz serve` (PROMETHEUS_MULTIPROC_DIR), values that take this process's kept id
    (this_process.pid) through prometheus_client's own `process_identifier` hook: its default,
    os.getpid, is a system call at every inc and observe, ~3% of a decision's CPU in a worker."""
    if prometheus_values.ValueClass is prometheus_values.MutexValue:
        return  # one process: no per-process files
    prometheus_values.ValueClass = prometheus_values.MultiProcessValue(process_identifier=this_process.pid)


_pid_kept()  # before the first metric is made
DECISIONS = Counter("authz_decisions_total", "Decisions made", ["action", "allowed"])
LATENCY = Histogram("authz_request_seconds", "Time to answer an API request", ["endpoint"],
                    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5))
LOG_BATCH = Histogram("authz_log_commit_batch_size", "Decision log entries per commit",
                      buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000))
LOG_REJECTED = Counter("authz_log_rejected_records_total", "Decision log spool records the database "
                       "refused for their values, set aside in <spool>.rejected (docs/operating.md)")
_FACTS = Counter("authz_facts_reads_total", "Facts read for a decision: from a worker's cache (hit), "
                 "from the database and kept (miss), or with no cache (off)", ["source"])
FACTS_READ = {source: _FACTS.labels(source=source) for source in ("hit", "miss", "off")}
# docs/decisions/034-log-export-and-stream.md: the newest stream read's distance to the log's end,
# and checkpoints a push to AUTHZ_LOG_WITNESS_PUSH failed to deliver (each retried)
LOG_STREAM_LAG = Gauge("authz_log_stream_lag_entries", "Entries stored after the last one the newest "
                       "GET /v1/decisions/stream answered gave, as that read saw the log",
                       multiprocess_mode="mostrecent")
WITNESS_PUSH_FAILED = Counter("authz_log_witness_push_failures_total", "Pushes of a signed checkpoint to "
                              "AUTHZ_LOG_WITNESS_PUSH that failed (each is retried)")

# docs/decisions/044-rollup-folded-behind-the-writer.md: how far the Activity rollup is behind the log
LOG_ROLLUP_LAG = Gauge("authz_log_rollup_lag_entries", "Entries stored after the Activity rollup's mark, "
                       "as the log writer's last fold left it", multiprocess_mode="mostrecent")

# docs/decisions/043-otlp-log-export.md: AUTHZ_LOG_OTLP_ENDPOINT's thread of the log writer
LOG_OTLP_LAG = Gauge("authz_log_otlp_lag_entries", "Entries stored after the last one the OTLP "
                     "collector took, as the exporting thread last saw the log", multiprocess_mode="mostrecent")
LOG_OTLP_SENT = Counter("authz_log_otlp_entries_total", "Decision entries the OTLP collector took")
LOG_OTLP_FAILED = Counter("authz_log_otlp_failures_total", "Batches of decision entries the OTLP "
                          "collector did not take (each is sent again)")

_gauges: dict = {}


# Each labelled child found once: `labels()` checks and joins its arguments at every call, a few
# µs a decision (docs/decisions/041-cpu-per-decision.md). Bounded as the metrics' own children are.
_decided: dict[tuple[str, bool], Counter] = {}
_latency: dict[str, Histogram] = {}


def observe_decisions(results: list[tuple[str, bool]]) -> None:
    """Count decisions (action, allowed): one add per distinct pair (a batch's items share a few;
    a lone decision, the usual request, is counted without building a Counter for it)."""
    for key, count in (((results[0], 1),) if len(results) == 1 else collections.Counter(results).items()):
        child = _decided.get(key)
        if child is None:
            child = _decided[key] = DECISIONS.labels(action=key[0], allowed=str(key[1]).lower())
        child.inc(count)


def observe_latency(endpoint: str, seconds: float) -> None:
    """One answered request's time, by endpoint."""
    child = _latency.get(endpoint)
    if child is None:
        child = _latency[endpoint] = LATENCY.labels(endpoint=endpoint)
    child.observe(seconds)


def register_gauge(name: str, help_text: str, read) -> None:
    """A gauge computed when scraped (e.g. outbox depth read from the database)."""
    _gauges[name] = (help_text, read)


class _ScrapeTime:
    def collect(self):
        for name, (help_text, read) in _gauges.items():
            try:
                value = float(read())
            except Exception:  # a gauge that cannot be read is left out, never a failed scrape
                continue
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family


def render() -> bytes:
    """The metrics text: every worker's counters (multiprocess mode) plus scrape-time gauges."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    text = generate_latest(registry)
    extra = CollectorRegistry()
    extra.register(_ScrapeTime())
    return text + generate_latest(extra)
