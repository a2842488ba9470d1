"""Files only the service's own user may read: the database, the log spool, key and secret files
(docs/decisions/018-files-backup-keys.md).

Files are created 0600 and the folders this module creates 0700, whatever the umask; a file
that exists already with wider permissions and belongs to us is narrowed to 0600.
"""

import contextlib
import os
import tempfile

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str) -> str:
    """Make `path` (and missing parents) 0700; an existing folder is left as it is (it may be
    shared on purpose, e.g. a spool folder chosen by the operator). Returns the path."""
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        private_dir(os.path.dirname(path))
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(path, DIR_MODE)
            os.chmod(path, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: str) -> str:
    """Make sure `path` exists as a 0600 file (created empty if missing); returns the path."""
    private_dir(os.path.dirname(os.path.abspath(path)))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        narrow(fd)
    finally:
        os.close(fd)
    return path


def narrow(fd: int) -> None:
    """An open file of ours readable by others is made 0600."""
    info = os.fstat(fd)
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        os.fchmod(fd, FILE_MODE)


def _staged(path: str, data: str | bytes) -> str:
    """`data` whole in a new 0600 file beside `path` (its folder made 0700 if missing), on disk
    (fsync); the temporary file's path, for the caller to move into place."""
    folder = private_dir(os.path.dirname(os.path.abspath(path)))
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))  # 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_secret(path: str, data: str | bytes) -> str:
    """Write `data` to `path` as a 0600 file, atomically (a reader sees the old or the new
    content, never a part); its folder is made 0700 if missing. Returns the path."""
    tmp = _staged(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def read_secret(path: str) -> str | None:
    """The text of a secret file, or None when there is none."""
    try:
        with open(path, encoding="utf-8") as src:
            return src.read()
    except FileNotFoundError:
        return None


def publish_once(path: str, data: str | bytes) -> bool:
    """Write `data` whole as a new 0600 file at `path`, never replacing one: False (and nothing
    written) when `path` exists already. For keys and the log's witness files (append-only)."""
    tmp = _staged(path, data)
    try:
        os.link(tmp, path)  # fails when the name is taken: nothing is ever rewritten
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True
