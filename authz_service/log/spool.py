"""The host's decision-log spool, the worker's side (R7.1, R7.4; docs/decisions/007-log-spool.md).

Under `authz serve`, a worker records a decision by appending one line to the spool
file with a single `write()` before the answer leaves: the line is in the kernel's
page cache, so it survives the server being killed (`kill -9`), like a SQLite WAL
commit with synchronous=NORMAL. The host's log writer (authz_service/log/server.py)
moves the lines into the database in large batches, numbering and hash-chaining them
there, and answers `sync()` once everything appended before it is in the database.

A worker takes no lock to append (one `write()` on an `O_APPEND` descriptor).

A line: "\\n" + JSON {"entries": [hashed content, ...], "activity": [customer ids, time] | null}
+ "\\n", each entry's hashed content (store/entry_form.content, a JSON array) set in as it is,
unquoted, so a worker writes no other form of it (the leading newline ends any line a failed
write left short, so a record always stands on its own line). Records of the form before,
{"rows": [[content columns..., hashed content as text], ...], "activity": ...}, are still read:
a spool left by an earlier version is stored after an upgrade.
"""

import fcntl
import hashlib
import os
import socket
import threading
import time
import uuid
from urllib.parse import urlparse

from authz_service.private_files import private_dir
from authz_service.store.entry_form import encoded

SPOOL_ENV = "AUTHZ_LOG_SPOOL"  # set by `authz serve` for its workers
SOCKET_ENV = "AUTHZ_LOG_SOCKET"
REOPEN_SECONDS = 0.5  # how soon an appender follows a rotated spool


def spool_family(settings) -> tuple[str, str] | None:
    """(folder, name prefix) of this database's spool files; None for an in-memory database."""
    parsed = urlparse(settings.database_url)
    if parsed.scheme == "sqlite":
        path = settings.database_url[len("sqlite:///"):]
        if not path or path == ":memory:":
            return None
        path = os.path.abspath(path)
        return settings.log_spool_dir or os.path.dirname(path), os.path.basename(path) + "-log"
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return os.path.abspath(settings.log_spool_dir or "var"), f"pg-{digest}-log"


def new_spool_path(settings) -> str | None:
    """A fresh spool file name for a server starting now."""
    family = spool_family(settings)
    if family is None:
        return None
    private_dir(family[0])  # its files are created 0600
    return os.path.join(family[0], f"{family[1]}-{uuid.uuid4().hex[:12]}.spool")


def spool_of(path: str) -> str:
    """The live spool a spool file belongs to (itself, or the one a `<spool>.r<time>` was moved from)."""
    folder, name = os.path.split(path)
    return os.path.join(folder, name[: name.rindex(".spool") + len(".spool")])


def lock_path(spool: str) -> str:
    """The lock file of a spool (a moved-aside `<spool>.r<time>` belongs to its spool's lock)."""
    return spool_of(spool).removesuffix(".spool") + ".lock"


def hold(spool: str) -> int:
    """Mark a spool live: a shared lock, held by every process of the server that writes it
    (the master takes it before forking the workers; the log writer takes its own). Recovery
    takes a spool only when it gets the lock exclusively, so only once all of them are gone."""
    fd = os.open(lock_path(spool), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)  # forks keep it
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def name_moved(path: str, fd: int) -> bool:
    """True when `path` no longer leads to the file open as `fd` (moved aside, removed, replaced)."""
    try:
        return os.stat(path).st_ino != os.fstat(fd).st_ino
    except FileNotFoundError:
        return True


class SpoolError(Exception):
    """The entry could not be appended, or the writer could not confirm a sync."""


def line(bodies: list[bytes], activity: list | None) -> bytes:
    """One spool record: the entries' hashed contents as they are, then the activity."""
    return b'\n{"entries":[' + b",".join(bodies) + b'],"activity":' + encoded(activity) + b"}\n"


class Spool:
    """A worker's handle on the spool file (opened on first use, in the worker process).

    No lock is taken to append: the writer never truncates a spool. To rotate, it moves
    the file aside and starts a new one; appenders notice within REOPEN_SECONDS (a stat)
    and the writer keeps reading the moved file until it has been quiet a long while.
    """

    def __init__(self, path: str, socket_path: str | None):
        self.path, self.socket_path = path, socket_path
        self.fd: int | None = None
        self.checked = 0.0
        self.old: list[int] = []  # earlier descriptors, closed a few rotations later
        self.lock = threading.Lock()

    def append(self, bodies: list[bytes], activity: list | None) -> None:
        """Write one record; return once the kernel has it (no fsync); SpoolError otherwise."""
        data = line(bodies, activity)
        try:
            written = os.write(self._fd(), data)
        except OSError as exc:
            raise SpoolError(f"cannot append to the decision log spool {self.path}: {exc}") from exc
        if written != len(data):
            raise SpoolError(f"the decision log spool took {written} of {len(data)} bytes")

    def _fd(self) -> int:
        now = time.monotonic()
        if self.fd is not None and now < self.checked + REOPEN_SECONDS:
            return self.fd
        with self.lock:
            if self.fd is None or (now >= self.checked + REOPEN_SECONDS and name_moved(self.path, self.fd)):
                if self.fd is not None:
                    self.old.append(self.fd)
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
                while len(self.old) > 4:  # no thread still holds one this old
                    os.close(self.old.pop(0))
            self.checked = now
            return self.fd

    def sync(self, timeout: float = 10.0) -> None:
        """Return once every record appended so far is in the database; SpoolError otherwise."""
        if not self.socket_path:
            raise SpoolError("no log writer to ask")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout)
                conn.connect(self.socket_path)
                conn.sendall(b"sync\n")
                answer = conn.makefile("rb").readline()
        except OSError as exc:
            raise SpoolError(f"the log writer did not answer: {exc}") from exc
        if answer.strip() != b"ok":
            reason = answer.decode(errors="replace").strip() or "no answer"
            raise SpoolError(f"the log writer could not store the spool: {reason}")


_spool: Spool | None = None


def current() -> Spool | None:
    """This process's spool when `authz serve` started a log writer, else None."""
    global _spool
    path = os.environ.get(SPOOL_ENV)
    if not path:
        return None
    if _spool is None or _spool.path != path:
        _spool = Spool(path, os.environ.get(SOCKET_ENV))
    return _spool


os.register_at_fork(after_in_child=lambda: globals().update(_spool=None))
