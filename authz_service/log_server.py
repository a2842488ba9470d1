"""The host's decision-log writer: `python -m authz_service.log_server SPOOL SOCKET`.

`authz serve` starts it before gunicorn forks the workers (docs/decisions/007-log-spool.md).
Single-threaded, it:
- first stores what an earlier server left in its spools (killed, say): every spool
  file of this database whose writer is gone, skipping entries already stored;
- every few milliseconds moves the new records of its own spool into the database,
  up to MAX_BATCH per transaction, numbered and chained as any append (R7.4);
- answers "sync" on its socket once every record appended before it is stored;
- empties the spool file when everything in it is stored and it has grown large;
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
from datetime import datetime

from authz_service import decision_log, store
from authz_service.config import Settings
from authz_service.log_spool import records, spool_family
from authz_service.store import decisions as store_decisions
from authz_service.store import summary

log = logging.getLogger("authz.log_writer")
TICK_SECONDS = 0.02
MAX_BATCH = 2000
READ_BYTES = 4 << 20
ROTATE_BYTES = 16 << 20


def _ticket(record: dict, skip: set[str]) -> decision_log.Ticket:
    prepared = [({}, body.encode(), store_decisions.row_from_wire(values))
                for *values, body in record["rows"] if values[0] not in skip]
    activity = record.get("activity")
    if not activity:
        return decision_log.Ticket(prepared, None)
    ids, at = activity[0], datetime.fromisoformat(activity[1])

    def note() -> None:  # the entries are acknowledged already: a failed figure never drops them
        try:
            with store_decisions.savepoint():
                summary.note_activity(ids, at)
        except Exception as exc:
            log.warning("last activity not updated for %s: %s", ids, exc)

    return decision_log.Ticket(prepared, note)


def store_records(batch: list[dict], dedupe: bool) -> None:
    """One transaction for the batch; with dedupe, entries already stored are left out."""
    skip: set[str] = set()
    if dedupe:
        skip = store_decisions.existing_ids([row[0] for r in batch for row in r["rows"]])
    store.database.connect(reuse_if_open=True)
    decision_log.write([_ticket(r, skip) for r in batch])


class Ingester:
    """Moves one spool file's records into the database, from `offset` on."""

    def __init__(self, path: str, dedupe: bool):
        self.path, self.dedupe, self.offset = path, dedupe, 0
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def step(self) -> int:
        """Store every complete record appended so far; how many were stored."""
        stored = 0
        while True:
            data = os.pread(self.fd, READ_BYTES, self.offset)
            found, used = records(data)
            for start in range(0, len(found), MAX_BATCH):
                store_records(found[start:start + MAX_BATCH], self.dedupe)
            stored += len(found)
            self.offset += used
            if len(data) < READ_BYTES or not used:
                return stored

    def rotate(self) -> None:
        """Empty the file once everything in it is stored (appenders wait on the lock meanwhile)."""
        if self.offset < ROTATE_BYTES:
            return
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            if os.fstat(self.fd).st_size == self.offset:
                os.ftruncate(self.fd, 0)
                self.offset = 0
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self, remove: bool) -> None:
        """Close; remove the file (and its lock) when everything in it is stored."""
        if remove and os.fstat(self.fd).st_size == self.offset:
            os.unlink(self.path)
        os.close(self.fd)


def _claim(spool: str) -> int | None:
    """Lock a spool's writer lock; None when a live writer holds it."""
    fd = os.open(spool[: -len(".spool")] + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def recover(settings: Settings, own: str | None = None) -> int:
    """Store the records of every spool of this database that no live writer holds; how many."""
    family = spool_family(settings)
    if family is None:
        return 0
    stored = 0
    for path in sorted(glob.glob(os.path.join(family[0], glob.escape(family[1]) + "-*.spool"))):
        if path == own:
            continue
        lock = _claim(path)
        if lock is None:
            continue
        try:
            ingester = Ingester(path, dedupe=True)
            stored += ingester.step()
            ingester.close(remove=True)
            os.unlink(path[: -len(".spool")] + ".lock")
        finally:
            os.close(lock)
    if stored:
        log.info("stored %d decision log records left in spools by an earlier server", stored)
    return stored


class Server:
    """Own spool in, database out; "sync" answered on the socket."""

    def __init__(self, settings: Settings, spool: str, socket_path: str):
        self.lock = _claim(spool)
        if self.lock is None:
            raise SystemExit(f"another log writer holds {spool}")
        recover(settings, own=spool)
        self.ingester = Ingester(spool, dedupe=True)  # a restarted writer: its spool may be stored in part
        self.ingester.step()
        self.ingester.dedupe = False
        self.failing = ""
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.listener.bind(socket_path + ".new")
        os.chmod(socket_path + ".new", 0o600)
        self.listener.listen(64)
        os.rename(socket_path + ".new", socket_path)  # `authz serve` waits for this name
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.selector.register(sys.stdin, selectors.EVENT_READ)
        self.buffers: dict[socket.socket, bytearray] = {}

    def run(self) -> None:
        """Until stdin closes: store what arrived, answer syncs; then store the rest and exit."""
        while True:
            asking = []
            for key, _ in self.selector.select(timeout=TICK_SECONDS):
                if key.fileobj is sys.stdin:
                    if not os.read(sys.stdin.fileno(), 4096):
                        return self._finish()
                elif key.fileobj is self.listener:
                    conn, _ = self.listener.accept()
                    self.buffers[conn] = bytearray()
                    self.selector.register(conn, selectors.EVENT_READ)
                elif self._asks(key.fileobj):
                    asking.append(key.fileobj)
            self._ingest()
            for conn in asking:
                self._answer(conn, b"ok\n" if not self.failing else f"error: {self.failing}\n".encode())

    def _ingest(self) -> None:
        try:
            self.ingester.step()
            self.ingester.rotate()
            self.failing = ""
        except Exception as exc:  # the records stay in the spool; the next tick tries again
            if not self.failing:
                log.warning("cannot store the decision log spool now: %s", exc)
            self.failing = str(exc).replace("\n", " ") or type(exc).__name__
            store.close()

    def _asks(self, conn: socket.socket) -> bool:
        try:
            chunk = conn.recv(4096)
        except OSError:
            chunk = b""
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
        self._ingest()
        self.ingester.close(remove=not self.failing)
        if not self.failing:
            os.unlink(self.ingester.path[: -len(".spool")] + ".lock")
        os.close(self.lock)


def main() -> None:
    """Serve the spool and socket named on the command line, on AUTHZ_DATABASE_URL."""
    # A SIGTERM/SIGINT to the server's group stops the workers; this process stays until
    # the last of them is gone (its stdin closes), to store their last entries.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    store.connect(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    Server(settings, sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    main()
