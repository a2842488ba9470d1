"""Signed checkpoints of the log's Merkle tree, kept outside the database (R7.6;
docs/decisions/030-signed-checkpoints.md).

A checkpoint is C2SP tlog-checkpoint text (origin, tree size, base64 root hash, one line
each) signed as a C2SP signed note by the log's Ed25519 key. The key lives in a file
(AUTHZ_LOG_KEY_FILE, made 0600 on first use); its name is the origin. Each checkpoint is
written to a new file in the witness folder (AUTHZ_LOG_WITNESS_DIR), never rewritten, and to
each folder of AUTHZ_LOG_WITNESS_COPIES (another replica's, a share kept elsewhere).
"""

import base64
import glob
import logging
import os
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from authz_service import metrics, store
from authz_service.log import tree
from authz_service.log.signing import NoteError, Signer, Verifier
from authz_service.private_files import publish_once, read_secret
from authz_service.store import decisions

SUFFIX = ".checkpoint"
FOLD_MOST = 20_000  # entries folded into the Activity rollup a tick (about 0.1 s of the writer)
FOLD_SECONDS = 1.0  # then a pause, once it has caught up
log = logging.getLogger("authz.log_writer")


def _beside_database(settings, name: str) -> str:
    """`<sqlite file>.<name>`, else var/log-<name> (PostgreSQL, or an in-memory database)."""
    if urlparse(settings.database_url).scheme == "sqlite":
        path = settings.database_url[len("sqlite:///"):]
        if path and path != ":memory:":
            return os.path.abspath(path) + "." + name
    return os.path.abspath(os.path.join("var", "log-" + name.removeprefix("log-")))


def key_path(settings) -> str:
    """AUTHZ_LOG_KEY_FILE, else `<sqlite file>.log-key`, else var/log-key."""
    return settings.log_key_file or _beside_database(settings, "log-key")


def witness_dir(settings) -> str:
    """AUTHZ_LOG_WITNESS_DIR, else `<sqlite file>.witness/`, else var/log-witness/."""
    return settings.log_witness_dir or _beside_database(settings, "witness")


def signer(settings) -> Signer:
    """The log's signing key, made on first use (0600; named AUTHZ_LOG_ORIGIN or authz-service/<random>)."""
    path = key_path(settings)
    text = read_secret(path)
    if text is None:
        publish_once(path, Signer.generate(settings.log_origin or f"authz-service/{os.urandom(4).hex()}").encode())
        text = read_secret(path) or ""
    if os.stat(path).st_mode & 0o077:
        raise NoteError(f"{path} can be read by others: `chmod 600 {path}`")
    return Signer.parse(text)


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint states: this origin's tree had `size` leaves and this root."""

    origin: str
    size: int
    root: bytes


def body(origin: str, size: int, root: bytes) -> str:
    """The checkpoint's text (C2SP tlog-checkpoint)."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint a signed note states, once its signature by `verifier` is checked; NoteError otherwise."""
    lines = verifier.open(note).split("\n")
    if len(lines) < 4 or lines[0] != verifier.name or not lines[1].isdigit() or lines[1] != str(int(lines[1])):
        raise NoteError("not a checkpoint of this log (origin, size, root hash)")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        root = b""
    if len(root) != 32:
        raise NoteError("the checkpoint's root hash is not 32 bytes of base64")
    return Checkpoint(lines[0], int(lines[1]), root)


def make(settings) -> str:
    """Sign the stored tree's size and root and keep it in the witness folder; the signed note.
    Nothing new is written when the newest kept checkpoint has that size already."""
    key = signer(settings)
    size, root = tree.size_and_root()
    found = newest(settings)
    if found is not None and found[0] == size:
        return found[1]
    note = key.sign(body(key.name, size, root))
    folder = witness_dir(settings)
    name = f"{size:015d}-{time.time_ns()}{SUFFIX}"
    while not publish_once(os.path.join(folder, name), note):
        time.sleep(0.001)  # the same size and nanosecond from another process: a new name
        name = f"{size:015d}-{time.time_ns()}{SUFFIX}"
    for copy in filter(None, (settings.log_witness_copies or "").split(os.pathsep)):
        try:  # another replica's folder, a mounted share: the local one is the record
            publish_once(os.path.join(copy, name), note)
        except OSError as exc:
            log.warning("checkpoint %s not copied to %s: %s", name, copy, exc)
    return note


def kept(path: str) -> list[str]:
    """The checkpoint files of a folder (sorted: smallest size, then oldest, first), or the file itself."""
    if os.path.isdir(path):
        return sorted(glob.glob(os.path.join(glob.escape(path), "*" + SUFFIX)))
    return [path]


def newest(settings) -> tuple[int, str] | None:
    """(size, signed note) of the newest kept checkpoint, None when none is kept."""
    folder = witness_dir(settings)
    files = kept(folder) if os.path.isdir(folder) else []
    if not files:
        return None
    with open(files[-1], encoding="utf-8") as note:
        return int(os.path.basename(files[-1]).split("-", 1)[0]), note.read()


class Scheduler:
    """The log writer's clock: a checkpoint at least every `every` seconds while entries arrive."""

    def __init__(self, settings):
        from authz_service.log import otlp, witness_push  # here: they import this module

        self.settings, self.every, self.size, self.due = settings, settings.log_checkpoint_seconds, -1, 0.0
        self.fold_due = 0.0
        from authz_service.log.checkpoint_audit import Audit

        self.pusher = witness_push.start(settings)  # AUTHZ_LOG_WITNESS_PUSH: a thread, never this loop
        self.otlp = otlp.start(settings)  # AUTHZ_LOG_OTLP_ENDPOINT: a child process sends what is stored (043)
        self.audit = Audit(settings, witness_dir(settings), key_path(settings))  # a child process, polled

    def step(self) -> bool:
        """Sign one when due and the tree has grown; True when one was made."""
        if self.every <= 0 or time.monotonic() < self.due:
            return False
        size, _ = tree.size_and_root()
        if size == self.size:  # idle: look again in a second, not every tick
            self.due = time.monotonic() + min(self.every, 1.0)
            return False
        make(self.settings)
        self.size, self.due = size, time.monotonic() + self.every
        if self.pusher is not None:
            self.pusher.wake.set()
        return True

    def fold(self) -> None:
        """The Activity rollup brought up behind the stored entries (decision 044): a chunk at
        most each tick, then nothing for a second once it has caught up."""
        if time.monotonic() < self.fold_due:
            return
        folded, behind = decisions.fold_rollup(FOLD_MOST)
        metrics.LOG_ROLLUP_LAG.set(behind)
        if folded < FOLD_MOST:
            self.fold_due = time.monotonic() + FOLD_SECONDS

    def tick(self, failing: str, now: bool = False) -> None:
        """`step` for the writer's loop: never while storing fails, never raising (entries come first)."""
        if failing:
            return
        if now:  # the writer is leaving: sign what it stored; a background verification is ended
            self.due = 0.0
            self.audit.stop()
            if self.otlp is not None:
                self.otlp.stop()  # the next writer starts another, which resumes where this one was
        try:
            self.step()
            self.fold()
            self.audit.step()
            if self.otlp is not None:
                self.otlp.check()
        except Exception as exc:  # the entries are stored; the checkpoint waits for the next try
            log.warning("cannot sign a checkpoint of the decision log now: %s", exc)
            self.due = time.monotonic() + 1.0
            store.close()
