"""`authz serve --server granian`: the same app behind granian's HTTP front (Rust, hyper)
instead of gunicorn's (docs/decisions/032-serving.md).

What `serve.run` does before the front starts (migrations once, the console secret, the run
folder, the metrics folder, the log writer and its spool) is shared; this module only starts
the workers. Each worker is forked by granian's master, builds the app as a gunicorn worker
does (`serve._post_fork`, `serve._post_worker_init`) and serves it through rsgi_bridge.py
(whole requests read under the deadline before a thread runs the app); on the way out it
gives back its facts-cache lease and marks its metric files dead (gunicorn's `worker_exit`,
`child_exit`).
"""

import logging
from functools import partial

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.server import MPServer

from authz_service.config import Settings
from authz_service.serving import access_log

RESPAWN_SECONDS = 0.5  # a worker killed (-9) is replaced after this; its siblings serve meanwhile


def _worker_app(_target: str, threads: int):
    """In each worker, at start: the app, as gunicorn's worker hooks build it."""
    from authz_service.app import create_app, start  # here: after PROMETHEUS_MULTIPROC_DIR is set
    from authz_service.serving import serve
    from authz_service.serving.rsgi_bridge import Bridge

    serve._post_fork(None, None)
    app = start(create_app())  # migrated by the master before forking (serve.run)
    serve._post_worker_init(None)
    settings = Settings.from_env()
    return Bridge(access_log.logged(app), threads, settings.request_read_seconds, settings.max_body_bytes)


class _Server(MPServer):
    """granian's process server (workers forked, as gunicorn's); its worker gives its lease back and its metrics up on exit."""

    @staticmethod
    def _spawn_rsgi_worker(*args, **kwargs):
        from authz_service.serving import serve

        try:
            MPServer._spawn_rsgi_worker(*args, **kwargs)
        finally:
            serve._worker_exit(None, None)
            serve._mark_dead()


def run_granian(host: str, port: int, workers: int, threads: int) -> None:
    """Serve on host:port: `workers` processes, each running the app in `threads` threads."""
    settings = Settings.from_env()
    logging.getLogger("_granian").setLevel(logging.WARNING)
    server = _Server(
        "authz_service", address=host, port=port, interface=Interfaces.RSGI, workers=workers,
        http=HTTPModes.http1, websockets=False,
        # a request's head must be in within the read deadline (017); the body's: rsgi_bridge.py
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.request_read_seconds * 1000)),
        respawn_failed_workers=True, respawn_interval=RESPAWN_SECONDS, workers_kill_timeout=10,
        log_access=False,
    )
    server.serve(target_loader=partial(_worker_app, threads=threads))
