"""The log checked against its signed checkpoints in the background (R7.6; docs/decisions/
034-log-export-and-stream.md): every AUTHZ_LOG_VERIFY_SECONDS the log writer process of
`authz serve` starts `authz log verify --checkpoint <witness folder>` as a child process in the
idle scheduling class (its own process: the walk recomputes every leaf, and must not hold the
writer's interpreter; idle, so that it only takes a core nothing else wants: docs/decisions/
049-background-work-yields.md), polls it from its loop without waiting, and keeps the outcome
in a 0600 file beside the spool; the console's "Log integrity" page shows it. Never in a request.
On a machine busy all the time the idle class may never run it: a run that has not ended after
STARVED_PERIODS periods is started again at nice 19, which the scheduler always gives a share.
"""

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from typing import IO

from authz_service.log import check
from authz_service.private_files import write_secret
from authz_service.store.entry_form import canonical_at
from authz_service.store.models import utcnow

RUN = ("import sys; from authz_service.log.checkpoint_audit import lower; lower(sys.argv.pop(1)); "
       "from authz_service.cli import main; sys.argv[0] = 'authz'; main()")
KEPT_LINES = 25
log = logging.getLogger("authz.log_writer")
STARVED_PERIODS = 3  # an idle-class run not ended after this many periods starts again at nice 19


def lower(how: str) -> str:
    """This process in Linux's idle class (SCHED_IDLE: a core only when no other task wants it)
    when `how` is "idle" and the class exists, else at the lowest nice; which of the two."""
    if how == "idle":
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        except (AttributeError, OSError):  # not Linux, or refused
            pass
    os.nice(19 - os.nice(0))
    return "nice"


def result_path(settings) -> str | None:
    """`<spool>-checkpoints-verified.json`; None for an in-memory database."""
    path = check.result_path(settings)
    return None if path is None else path.removesuffix("-verified.json") + "-checkpoints-verified.json"


def last_result(settings) -> dict | None:
    """The last finished run ({"ok", "exit", "lines", "finished_at"}), or None."""
    path = result_path(settings)
    with contextlib.suppress(OSError, ValueError, TypeError):
        with open(path or "", encoding="utf-8") as kept:
            found = json.load(kept)
        return found if isinstance(found, dict) else None
    return None


class Audit:
    """One `verify --checkpoint` child at a time, one started every `every` seconds."""

    def __init__(self, settings, witness: str, key_file: str):
        self.settings, self.path, self.every = settings, result_path(settings), settings.log_verify_seconds
        self.witness, self.key_file = witness, key_file
        self.child: subprocess.Popen | None = None
        self.output: IO[bytes] | None = None
        self.how, self.started = "idle", 0.0  # the running child's class, and when it began
        self.due = time.monotonic() + min(self.every, 5.0)  # not before the writer has stored anything

    def step(self) -> bool:
        """Start a run when due, collect one that ended; True when a result was just kept."""
        if self.path is None or self.every <= 0:
            return False
        if self.child is None:
            if time.monotonic() >= self.due and os.path.isdir(self.witness):
                self._start()
            return False
        code = self.child.poll()
        if code is None:
            if self.how == "idle" and time.monotonic() - self.started > STARVED_PERIODS * self.every:
                log.warning("the checkpoint audit got no turn in the idle class for %.0f s: "
                            "started again at nice 19", time.monotonic() - self.started)
                self.stop()
                self._start("nice")
            return False
        assert self.output is not None
        self.output.seek(0)
        lines = self.output.read().decode("utf-8", "replace").splitlines()[-KEPT_LINES:]
        self.output.close()
        self.child, self.output, self.due = None, None, time.monotonic() + self.every
        write_secret(self.path, json.dumps({"ok": code == 0, "exit": code, "lines": lines, "scheduled": self.how,
                                            "finished_at": canonical_at(utcnow())}))
        return True

    def _start(self, how: str = "idle") -> None:
        self.how, self.started = how, time.monotonic()
        env = {**os.environ, "AUTHZ_DATABASE_URL": self.settings.database_url, "AUTHZ_LOG_KEY_FILE": self.key_file}
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 (kept open until the child ends; closed in step, stop)
        self.child = subprocess.Popen([sys.executable, "-c", RUN, how, "log", "verify", "--checkpoint", self.witness],
                                      stdin=subprocess.DEVNULL, stdout=self.output, stderr=subprocess.STDOUT,
                                      env=env)

    def stop(self) -> None:
        """The writer leaves: a run still going is ended (the next writer starts another)."""
        if self.child is not None:
            self.child.kill()
            self.child.wait()
            self.child = None
        if self.output is not None:
            self.output.close()
            self.output = None
