"""Running create_app() under gunicorn (`authz serve`)."""

import os
import tempfile

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from authz_service import create_app

        return create_app()


ACCESS_LOG = ('{"time": "%(t)s", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", '
              '"status": %(s)s, "bytes": "%(B)s", "duration_us": %(D)s, "pid": "%(p)s", '
              '"request_id": "%({x-request-id}o)s"}')


def _child_exit(server, worker):
    """A worker's metric files stop counting as live when it exits."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run(host: str, port: int, workers: int, threads: int) -> None:
    """Serve on host:port with `workers` processes of `threads` threads each (1: sync workers)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every worker's counters in /metrics
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="authz-metrics-")
    _Gunicorn({
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": "-", "access_log_format": ACCESS_LOG,
        "timeout": 60, "graceful_timeout": 10, "child_exit": _child_exit,
    }).run()
