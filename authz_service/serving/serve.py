"""Running create_app() under gunicorn (`authz serve`): the master migrates once, then forks;
each worker builds the app and starts its threads (docs/decisions/023-start-up.md)."""

import errno
import gc
import os
import selectors
import sys
import time
from functools import partial

from gunicorn.app.base import BaseApplication

from authz_service import secret_file, store
from authz_service.config import Settings
from authz_service.log import spool
from authz_service.serving.inline import InlineWorker
from authz_service.serving.log_writer import LogWriter
from authz_service.serving.run_folder import run_folder
from authz_service.store import facts_cache
from authz_service.store.db import is_postgres

ACCEPT_DELAY_PER_CONNECTION = 0.002  # seconds, up to 5 connections' worth
HEARTBEAT_SECONDS = 1.0  # the master stops a worker silent for its timeout (60 s, gunicorn_options)


class BalancedThreadWorker(InlineWorker):
    """gunicorn's gthread worker, reading whole requests first (request_reader.py) and answering
    plain decision requests itself (inline.py), with two changes to how it takes a new connection.

    Balanced accept: a worker that holds more connections waits a moment before
    accepting, so that a sibling with fewer takes the connection first. Every worker is
    woken for each new connection, and kept-alive connections stay with the worker that
    accepted them; with plain gthread one worker often took every connection of a burst
    and served them all on one core while its sibling idled (docs/performance.md). This
    costs at most 10 ms per new connection, never anything per request.

    Poller first: a new connection waits in the worker's poller until its first bytes
    arrive, as a kept-alive one does, instead of in a pool thread (gunicorn's gthread
    gives it a thread that waits up to 5 s). A client that connects and sends nothing
    then holds no thread, and is closed after the keep-alive timeout. This is what
    makes one thread per worker (`--threads 1`) safe to run.

    Heartbeat once a second: gunicorn's loop calls `notify` (a utime of the worker's file) each
    time round, which under load is every request (docs/decisions/052).
    """

    _beat = float("-inf")

    def notify(self):
        now = time.monotonic()
        if now - self._beat >= HEARTBEAT_SECONDS:
            self._beat = now
            super().notify()

    def accept(self, listener):
        if self.nr_conns:
            time.sleep(ACCEPT_DELAY_PER_CONNECTION * min(self.nr_conns, 5))
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = self.new_conn(client, address, listener)  # non-blocking until served
        conn.timeout = time.monotonic() + self.cfg.keepalive  # murder_pending closes it then
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self.on_pending_socket_readable, conn))


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, app=None):
        self.options, self.app = options, app
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        if self.app is not None:
            return self.app
        # Here, in the worker: app imports prometheus_client (via metrics), which must first see
        # the PROMETHEUS_MULTIPROC_DIR that run() sets, or each worker counts in its own memory.
        from authz_service.app import create_app, start

        return start(create_app())  # migrated by the master before forking (run)



def _post_fork(server, worker):
    """In each worker: a thread waiting for the interpreter lock after I/O gets it sooner."""
    sys.setswitchinterval(Settings.from_env().switch_interval_ms / 1000)


def _post_worker_init(worker):
    """The app is loaded: keep its long-lived objects (the policy's decision table, ~40k keys)
    out of the garbage collector's full passes, which otherwise pause requests for milliseconds;
    on PostgreSQL, start keeping facts in memory (docs/decisions/011)."""
    gc.collect()
    gc.freeze()
    settings = Settings.from_env()
    if settings.facts_cache and is_postgres(settings.database_url):
        facts_cache.start(settings.database_url)  # R4.6 holds: docs/decisions/011-facts-cache.md


def _worker_exit(server, worker):
    """In a worker that is stopping: give its facts-cache lease back, so a change made now
    does not wait for the lease to run out (docs/decisions/011)."""
    facts_cache.stop()


def _child_exit(server, worker):
    """A worker's metric files stop counting as live when it exits."""
    # Here, not at the top: this module is imported in the master before run() sets
    # PROMETHEUS_MULTIPROC_DIR, and the workers it forks must import prometheus_client after.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _share_metrics(folder: str) -> None:
    """Every process's counters in one folder, so /metrics adds up all workers (and _child_exit
    marks a worker's files dead there); the run folder unless one is set."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(folder, "metrics")
        os.mkdir(os.environ["PROMETHEUS_MULTIPROC_DIR"], 0o700)


def run(host: str, port: int, workers: int, threads: int, server: str = "gunicorn") -> None:
    """Serve on host:port with `workers` processes of `threads` threads each."""
    os.umask(0o077)  # every file and folder the server makes is its user's alone (docs/decisions/018)
    settings = Settings.from_env()
    # Once, here, before the log writer and the workers start: none of them migrates (023).
    try:
        store.migrate(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    except (store.DatabaseError, OSError, ValueError) as exc:
        raise SystemExit(f"cannot bring the database's schema up to date: {exc}") from None
    try:  # made once here, before the workers read it; refused when others can read it
        secret_file.console_secret(settings)
    except (OSError, secret_file.ExposedSecret) as exc:
        raise SystemExit(f"the console's secret file: {exc}") from None
    with run_folder() as folder:
        _share_metrics(folder)  # before the log writer starts: its batch sizes are in /metrics too
        try:
            spool_path = spool.new_spool_path(settings) if settings.log_writer else None
        except OSError as exc:
            raise SystemExit(f"cannot make the decision log spool ({exc}); set AUTHZ_LOG_SPOOL_DIR to a "
                             "folder the service may write") from None
        writer = None
        if spool_path:  # the workers inherit where to append their entries
            writer = LogWriter(spool_path, folder).start()
            os.environ[spool.SPOOL_ENV], os.environ[spool.SOCKET_ENV] = spool_path, writer.socket
        try:
            if server == "granian":
                from authz_service.serving.granian_front import run_granian

                run_granian(host, port, workers, threads)
            else:
                _Gunicorn(gunicorn_options(host, port, workers, threads)).run()
        finally:
            if writer is not None:
                writer.stop()


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    """The gunicorn settings of `authz serve` (bench/serve_throughput.py serves its bare endpoint with them too)."""
    return {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "authz_service.serving.serve.BalancedThreadWorker",
        "accesslog": "-", "logger_class": "authz_service.serving.access_log.JsonAccessLogger",
        "timeout": 60, "graceful_timeout": 10, "child_exit": _child_exit, "worker_exit": _worker_exit,
        "post_fork": _post_fork, "post_worker_init": _post_worker_init,
        # gunicorn's C request parser (gunicorn-h1c, a pinned dependency), with the same header
        # policy as its Python one; "fast" fails at start rather than falling back unnoticed.
        "http_parser": "fast",
        # No gunicorn control socket (on by default since gunicorn 25.1): one path per user
        # ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl) that a second `authz serve` on the host
        # takes over and the first one's stop deletes (docs/decisions/026-pool-and-workers.md).
        "control_socket_disable": True,
    }


def serve_app(app, options: dict) -> None:
    """Serve another WSGI app with these options (the benchmark's bare endpoint)."""
    with run_folder() as folder:
        _share_metrics(folder)
        _Gunicorn(options, app).run()


def _mark_dead() -> None:
    """This process's metric files stop counting as live (a granian worker on its way out)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid())
