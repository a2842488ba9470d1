"""The policy folder read once into memory: what a policy is built from and what its version names (R9.6).

Only regular files under `policies/` are read (a symlink may point inside it,
never out), each at most `MAX_FILE` bytes, all together at most `MAX_TOTAL`,
all UTF-8. A FIFO is opened without blocking and refused. `stamp()` tells a
change from stat alone (name, size, mtime_ns, inode), so watching never re-reads
a file that did not change.
"""

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from authz_service.policy.errors import PolicyError

MAX_FILE = 1 << 20  # 1 MiB per file
MAX_TOTAL = 4 << 20  # 4 MiB for the whole folder
RULE_PATTERNS = ("*.toml", "*.conf", "*.csv")  # what the version covers
TESTS = "tests"  # decision tables: checked, not built from, so not in the version


@dataclass(frozen=True)
class Snapshot:
    """The bytes of every policy file at one moment, by name relative to the folder."""

    root: Path
    files: dict[str, bytes]
    stamp: tuple
    digest: str = field(init=False)  # every byte, tests included (for caching a checked build)
    version: str = field(init=False)  # the rule files only: what a decision runs

    def __post_init__(self):
        object.__setattr__(self, "digest", _hash(self.files.items()))
        object.__setattr__(self, "version",
                           _hash((n, b) for n, b in self.files.items() if "/" not in n)[:12])

    @property
    def prefix(self) -> str:
        """The folder's name, as file:line locations spell it (`policies/services.csv:3`)."""
        return self.root.name

    def text(self, name: str) -> str | None:
        """The file's text (checked UTF-8 when read), None when there is no such file."""
        data = self.files.get(name)
        return None if data is None else data.decode("utf-8")

    def listed_text(self, name: str) -> str:
        """The text of a file `names()` listed, which is there."""
        return self.files[name].decode("utf-8")

    def names(self, folder: str = "", suffix: str = ".csv") -> list[str]:
        """The files directly in `folder` ("" for the top) ending with `suffix`, sorted."""
        prefix = f"{folder}/" if folder else ""
        return sorted(n for n in self.files if n.startswith(prefix) and "/" not in n[len(prefix):]
                      and n.endswith(suffix))


def _hash(items) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(items):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def _listing(root: Path) -> list[tuple[str, Path]]:
    """(name, path) of every file the policy is made of, without opening any."""
    found = [(p.name, p) for pattern in RULE_PATTERNS for p in root.glob(pattern)]
    found += [(f"{TESTS}/{p.name}", p) for p in (root / TESTS).glob("*.csv")]
    return sorted(found)


def _inside(root: Path, path: Path, name: str) -> Path:
    """The path with symlinks resolved; a PolicyError when it leaves the folder."""
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise PolicyError([(f"{root.name}/{name}", 0, f"refused: a symlink leaving {root.name}/ (to {real})")])
    return real


def stamp(root) -> tuple:
    """(name, size, mtime_ns, inode) of every policy file: stat only, never a read."""
    root = Path(root)
    rows: list[tuple] = []
    for name, path in _listing(root):
        try:
            st = path.stat()
        except OSError as exc:
            rows.append((name, -1, -1, str(exc)))
            continue
        rows.append((name, st.st_size, st.st_mtime_ns, st.st_ino, stat.S_IFMT(st.st_mode)))
    return tuple(rows)


def read(root) -> Snapshot:
    """Every policy file, checked and read once; a PolicyError says which file was refused and why."""
    root = Path(root)
    if not root.is_dir():
        raise PolicyError([(root.name, 0, "not a folder")])
    tests = root / TESTS
    if tests.is_symlink():
        _inside(root, tests, TESTS)
    files, rows, total = {}, [], 0
    for name, path in _listing(root):
        data, st = _read_one(root, name, path, MAX_TOTAL - total)
        files[name], total = data, total + len(data)
        rows.append((name, st.st_size, st.st_mtime_ns, st.st_ino, stat.S_IFMT(st.st_mode)))
    return Snapshot(root, files, tuple(rows))


def _read_one(root: Path, name: str, path: Path, room: int) -> tuple[bytes, os.stat_result]:
    where = f"{root.name}/{name}"
    real = _inside(root, path, name)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise PolicyError([(where, 0, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PolicyError([(where, 0, "refused: not a regular file (a FIFO, device or folder)")])
        limit = min(MAX_FILE, room)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE:
        raise PolicyError([(where, 0, f"refused: larger than {MAX_FILE} bytes per file")])
    if len(data) > limit:
        raise PolicyError([(where, 0, f"refused: the policy files exceed {MAX_TOTAL} bytes in all")])
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([(where, 0, f"refused: not UTF-8 (byte {exc.start})")]) from None
    return data, st


def read_settled(root, settle: float = 0.3, attempts: int = 20) -> Snapshot:
    """A snapshot taken once no policy file has changed for `settle` seconds (a deploy writes several)."""
    for _ in range(attempts):
        before = stamp(root)
        newest = max((row[2] for row in before if isinstance(row[2], int)), default=0)
        age = (time.time_ns() - newest) / 1e9
        if 0 <= age < settle:  # written a moment ago: more may follow
            time.sleep(settle - age)
            continue
        snap = read(root)
        if snap.stamp == before:
            return snap
    raise PolicyError([(Path(root).name, 0, "the policy files kept changing; try again once the deploy is done")])
