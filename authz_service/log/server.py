"""The host's decision-log writer: `python -m authz_service.log.server SPOOL SOCKET`.

`authz serve` starts it before gunicorn forks the workers (docs/decisions/007-log-spool.md).
Single-threaded, at nice 5, handing its core back every quarter millisecond (give_way.py), it:
- first stores what earlier servers left in their spools (killed, say), skipping what is stored;
- every few milliseconds moves the new records of its own spool into the database,
  up to MAX_BATCH per transaction, numbered and chained as any append (R7.4);
- answers "sync" once every record appended before it is stored; empties a large spool once
  stored; signs a checkpoint of the Merkle tree at least every 10 s while entries arrive (R7.6);
  verifies the chain in slices, which yield while entries arrive (log/check.py);
- when the database refuses a batch for a value in it, stores it record by record and sets
  the refused records aside in `<spool>.rejected` (docs/decisions/013-log-values.md);
- on its standard input closing (the server is gone), stores the rest and exits.
"""

import contextlib
import fcntl
import glob
import logging
import os
import selectors
import signal
import socket
import sys
import time

from authz_service import give_way, store
from authz_service.config import Settings
from authz_service.log import check, checkpoints
from authz_service.log.ingest import Ingester, store_files
from authz_service.log.spool import hold, lock_path, name_moved, spool_family, spool_of

log = logging.getLogger("authz.log_writer")
TICK_SECONDS = 0.01
ROTATE_BYTES = 64 << 20
RETIRE_SECONDS = 120.0  # a rotated file quiet this long (twice the workers' timeout) is done


def _claim(spool: str) -> int | None:
    """The spool's lock, exclusively; None while any process of its server still holds it."""
    fd = os.open(lock_path(spool), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _files_of(spool: str) -> list[str]:
    """A spool's files, oldest first: the rotated ones by time, then the live one."""
    rotated = [p for p in glob.glob(glob.escape(spool) + ".r*") if p.rsplit(".r", 1)[1].isdigit()]
    return sorted(rotated, key=lambda p: int(p.rsplit(".r", 1)[1])) + [spool]  # not .rejected


def recover(settings: Settings, own: str | None = None) -> int:
    """Store the records of every spool of this database that no live writer holds; how many."""
    family = spool_family(settings)
    if family is None:
        return 0
    stored = 0
    found = glob.glob(os.path.join(family[0], glob.escape(family[1]) + "-*.spool*"))
    for spool in sorted({spool_of(p) for p in found} - {own}):
        lock = _claim(spool)
        if lock is None:
            continue
        try:
            stored += store_files(_files_of(spool))
            os.unlink(lock_path(spool))
        finally:
            os.close(lock)
    if stored:
        log.info("stored %d decision log records left in spools by an earlier server", stored)
    return stored


class Server:
    """Own spool in, database out; "sync" answered on the socket."""

    def __init__(self, settings: Settings, spool: str, socket_path: str):
        self.lock = hold(spool)
        recover(settings, own=spool)
        store_files(_files_of(spool)[:-1])  # a restarted writer: what its predecessor moved aside
        self.ingester = Ingester(spool, dedupe=True)  # and its spool may be stored in part
        self.ingester.step()
        self.ingester.dedupe = False
        self.retired: list[Ingester] = []
        self.failing, self.stored_at = "", 0.0  # stored_at: entries last stored (time.monotonic)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.listener.bind(socket_path + ".new")
        os.chmod(socket_path + ".new", 0o600)
        self.listener.listen(64)
        os.rename(socket_path + ".new", socket_path)  # `authz serve` waits for this name
        self.selector = selectors.DefaultSelector()
        for source in (self.listener, sys.stdin):
            self.selector.register(source, selectors.EVENT_READ)
        self.buffers: dict[socket.socket, bytearray] = {}
        checked = check.result_path(settings)  # the chain verified here, not in requests
        self.checker = check.Checker(checked, settings.log_verify_seconds) if checked else None
        self.checkpoints = checkpoints.Scheduler(settings)  # R7.6: signed here, never in a request

    def run(self) -> None:
        """Until stdin closes: store what arrived, answer syncs; then store the rest and exit."""
        while True:
            asking = []
            for key, _ in self.selector.select(timeout=TICK_SECONDS):
                if key.fileobj is sys.stdin:
                    if not os.read(key.fd, 4096):
                        return self._finish()
                elif key.fileobj is self.listener:
                    conn, _ = self.listener.accept()
                    self.buffers[conn] = bytearray()
                    self.selector.register(conn, selectors.EVENT_READ)
                elif isinstance(key.fileobj, socket.socket) and self._asks(key.fileobj):
                    asking.append(key.fileobj)  # every other registered object is a connection
            give_way.woke()  # it waited in select: whatever it does now is a new turn (decision 054)
            self._ingest()
            self.checkpoints.tick(self.failing)
            for conn in asking:  # before the chain's slice: a sync never waits for verification
                self._answer(conn, b"ok\n" if not self.failing else f"error: {self.failing}\n".encode())
            self._check()

    def _ingest(self) -> None:
        try:
            for old in list(self.retired):  # appenders that have not yet followed a rotation
                if old.step() == 0 and time.monotonic() - old.moved_at > RETIRE_SECONDS:
                    old.close(remove=True)
                    self.retired.remove(old)
            self.stored_at = time.monotonic() if self.ingester.step() else self.stored_at
            if self.ingester.offset >= ROTATE_BYTES or name_moved(self.ingester.path, self.ingester.fd):
                self.retired.append(self.ingester)
                self.ingester = self.ingester.move_aside()
            self.failing = ""
        except Exception as exc:  # the records stay in the spool; the next tick tries again
            if not self.failing:
                log.warning("cannot store the decision log spool now: %s", exc)
            self.failing = str(exc).replace("\n", " ") or type(exc).__name__
            store.close()

    def _check(self) -> None:
        """One bounded slice of the chain's verification, after storing (never before it)."""
        if self.checker is None or self.failing:
            return
        try:
            self.checker.step(busy=time.monotonic() - self.stored_at < check.BUSY_SECONDS)
        except Exception as exc:  # verification waits for the next pass; storing goes on
            log.warning("cannot verify the decision log now: %s", exc)
            self.checker.verdict, self.checker.due = None, time.monotonic() + self.checker.every
            store.close()

    def _asks(self, conn: socket.socket) -> bool:
        chunk = b""
        with contextlib.suppress(OSError):
            chunk = conn.recv(4096)
        if not chunk or len(self.buffers[conn]) > 4096:
            self._forget(conn)
            return False
        self.buffers[conn] += chunk
        return b"\n" in self.buffers[conn]

    def _answer(self, conn: socket.socket, answer: bytes) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(answer)
        self._forget(conn)

    def _forget(self, conn: socket.socket) -> None:
        if self.buffers.pop(conn, None) is not None:
            self.selector.unregister(conn)
            conn.close()

    def _finish(self) -> None:
        for old in self.retired:
            old.moved_at = 0.0  # the workers are gone: nothing more can arrive
        self._ingest()
        self.checkpoints.tick(self.failing, now=True)  # the last entries are covered before leaving
        for old in self.retired:
            old.close(remove=not self.failing)
        self.ingester.close(remove=not self.failing)
        if not self.failing:
            os.unlink(lock_path(self.ingester.path))
        os.close(self.lock)


def main() -> None:
    """Serve the spool and socket named on the command line, on AUTHZ_DATABASE_URL."""
    # SIGTERM/SIGINT to the group stop the workers; this stays until they are gone (stdin closes)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(5)  # storing can wait a moment; answering requests cannot, nor wait for a tick
    give_way.enable()  # while this holds a core (decision 054)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    store.connect(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    Server(settings, sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    main()
