"""Sending stored decision entries to an OpenTelemetry collector (R7.6; docs/decisions/043):
the CPU the log writer's exporting thread spends an entry, against the CPU the writer itself
spends storing one (chain, Merkle tree, insert), measured in the same run, and the ratio.

    .venv/bin/python bench/otlp_export.py [--entries 20000]
    .venv/bin/python bench/otlp_export.py --quick    # 2,000 entries

SQLite in a temporary folder; the collector is a loopback HTTP stub that answers 200.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    entries = 2_000 if args.quick else args.entries

    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    from authz_service import store
    from authz_service.config import Settings
    from authz_service.log import otlp
    from tests.support.log_entries import append, entry
    from tests.support.stub import Stub

    tmp = tempfile.mkdtemp(prefix="bench-otlp-")
    settings = Settings.from_env({"database_url": f"sqlite:///{tmp}/authz.db", "log_key_file": f"{tmp}/key",
                                  "log_witness_dir": f"{tmp}/witness"})
    store.connect(settings.database_url, migrate=True)
    started = time.thread_time()
    for first in range(0, entries, 1000):  # as the writer stores its spool: 1,000 a batch
        append([entry(n) for n in range(first, min(entries, first + 1000))])
    storing = (time.thread_time() - started) / entries
    with Stub(answers={"/v1/logs": {}}) as stub:
        settings.log_otlp_endpoint = stub.url + "/v1/logs"
        sender = otlp.Exporter(settings, OTLPLogExporter(endpoint=settings.log_otlp_endpoint))
        started, wall = time.thread_time(), time.perf_counter()
        sent = sender.step()
        sending, wall = (time.thread_time() - started) / max(sent, 1), time.perf_counter() - wall
        size = sum(len(body) for _, _, body in stub.requests) / max(len(stub.requests), 1)
    assert sent == entries, f"sent {sent} of {entries}"
    print(f"entries: {entries}, {len(stub.requests)} requests of {size / 1024:.0f} KiB on average")
    print(f"storing (the writer's thread: chain, tree, insert): {storing * 1e6:.1f} us CPU an entry")
    print(f"sending (the exporting thread: read, encode, POST):  {sending * 1e6:.1f} us CPU an entry, "
          f"{sent / wall:,.0f} entries/s")
    print(f"ratio sending / storing: {sending / storing:.2f}")


if __name__ == "__main__":
    main()
