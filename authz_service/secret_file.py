"""Secrets kept in files outside the database (R7.6's habit): made 0600, refused when others can read them."""

import contextlib
import os
import secrets
import stat
from urllib.parse import urlparse

from authz_service.private_files import private_dir


class ExposedSecret(Exception):
    """The secret file can be read by its group or by others: the service refuses to start."""


def load_or_create(path: str, size: int = 32) -> bytes:
    """The secret in `path`, made (random, mode 0600) when absent; ExposedSecret when group/world-readable."""
    folder = os.path.dirname(os.path.abspath(path))
    private_dir(folder)
    if not os.path.exists(path):
        _create(path, size)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise ExposedSecret(f"{path} has mode {mode:04o}: only its owner may read or write it; "
                            f"`chmod 600 {path}` and restart")
    with open(path, encoding="ascii") as found:
        value = found.read().strip()
    if len(value) < 32:
        raise ExposedSecret(f"{path} holds no usable secret (at least 32 characters are needed)")
    return value.encode()


def _create(path: str, size: int) -> None:
    """Write a new secret whole, then give it its name unless another process did first (a
    reader never sees an empty or partial secret)."""
    partial = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.new"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(size) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process named its secret first
            os.link(partial, path)
    finally:
        os.unlink(partial)


def console_secret_path(settings) -> str | None:
    """Where the console's secret lives: AUTHZ_CONSOLE_SECRET_FILE, else beside the SQLite file
    (`<file>.console-secret`), else var/console-secret; None for an in-memory database."""
    if settings.console_secret_file:
        return settings.console_secret_file
    if urlparse(settings.database_url).scheme == "sqlite":
        path = settings.database_url[len("sqlite:///"):]
        return None if not path or path == ":memory:" else os.path.abspath(path) + ".console-secret"
    return os.path.abspath(os.path.join("var", "console-secret"))


def console_secret(settings) -> bytes:
    """The console's cookie-signing secret (random per process for an in-memory database)."""
    path = console_secret_path(settings)
    return secrets.token_bytes(32) if path is None else load_or_create(path)
