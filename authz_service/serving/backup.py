"""`authz db backup` and `authz db restore` for SQLite (docs/operating.md "Backup and restore";
docs/decisions/018-files-backup-keys.md). On PostgreSQL: pg_dump and pg_restore.

A backup is made with SQLite's online backup API: a consistent copy while the server runs.
A restore needs the server stopped (a killed one is fine): it moves the database, its -wal and
-shm files and the log spool files aside into `<db>.before-restore-<time>/` (a stale -wal
applied to the restored file is what made it "malformed"), then puts a copy of the backup in
place. Spooled entries moved aside were acknowledged after the backup was made; they are kept
for inspection, not stored into the restored log.
"""

import contextlib
import fcntl
import glob
import os
import sqlite3
import tempfile
from datetime import UTC, datetime

from authz_service.log.spool import spool_family
from authz_service.private_files import FILE_MODE, private_dir


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


def sqlite_path(settings) -> str:
    if not settings.database_url.startswith("sqlite:///"):
        raise BackupError("on PostgreSQL, back up with pg_dump and restore with pg_restore "
                          "(docs/operating.md, Backup and restore)")
    path = settings.database_url[len("sqlite:///"):]
    if not path or path == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return os.path.abspath(path)


def _copy(source: str, target: str) -> None:
    """A consistent copy of the SQLite database `source` as the new 0600 file `target`."""
    folder = private_dir(os.path.dirname(os.path.abspath(target)))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".backup-")  # 0600
    os.close(fd)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            problem = src.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise BackupError(f"{source} is damaged: {problem}")
            dst = sqlite3.connect(tmp)
            with dst:
                src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            dst.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a readable SQLite database: {exc}") from None
        finally:
            src.close()
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def backup(settings, target: str) -> None:
    """Copy the running (or stopped) database to `target`, which must not exist."""
    source = sqlite_path(settings)
    if os.path.exists(target):
        raise BackupError(f"{target} exists; name a new file")
    if not os.path.exists(source):
        raise BackupError(f"there is no database at {source}")
    _copy(source, target)


def _live_spool_locks(folder: str, prefix: str) -> list[str]:
    """Lock files of spools a running server still holds."""
    held = []
    for lock in glob.glob(os.path.join(folder, glob.escape(prefix) + "-*.lock")):
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.append(lock)
        finally:
            os.close(fd)
    return held


def restore(settings, source: str) -> tuple[str, list[str]]:
    """Replace the database with a copy of the backup `source`; (the folder the old files were
    moved to, their names)."""
    target = sqlite_path(settings)
    if not os.path.isfile(source):
        raise BackupError(f"there is no backup at {source}")
    family = spool_family(settings)
    if family is None:  # an in-memory database; sqlite_path refused it above
        raise BackupError("an in-memory database has nothing to restore")
    folder, prefix = family
    if _live_spool_locks(folder, prefix):
        raise BackupError("a server is running on this database: stop it first")
    staged = target + ".restoring"
    _copy(source, staged)  # checked and copied before anything is moved
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = private_dir(f"{target}.before-restore-{stamp}")
    old = [target + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    old += glob.glob(os.path.join(folder, glob.escape(prefix) + "-*"))
    moved = []
    for path in old:
        if os.path.exists(path):
            os.rename(path, os.path.join(aside, os.path.basename(path)))
            moved.append(os.path.basename(path))
    os.replace(staged, target)
    return aside, moved
