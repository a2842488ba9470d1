"""The loop of the log writer's helper threads (R7.6): the witness push and the OTLP export
(docs/decisions/034-log-export-and-stream.md, 043-otlp-log-export.md).

Each subclass's `step()` delivers what is due and returns how many it delivered; it counts a
failure in `self.failures` (0 after a success). The thread steps, then waits 1 s, or 1, 2, 4 ...
60 s after failures, or until woken; the writer's own loop never waits for it.
"""

import logging
import threading

log = logging.getLogger("authz.log_writer")
MAX_WAIT_SECONDS = 60.0


class Retrying:
    """A step repeated until stopped, backing off while it fails."""

    what = "log helper"  # named in the warning an unexpected error logs

    def __init__(self) -> None:
        self.failures, self.wake, self.stopped = 0, threading.Event(), threading.Event()

    def step(self) -> int:
        raise NotImplementedError

    def run(self) -> None:
        """Until stopped: step, then wait (longer after each failure) or until woken."""
        while not self.stopped.is_set():
            try:
                self.step()
            except Exception as exc:  # a state file, a folder, the database: log, and try again later
                log.warning("%s: %s", self.what, exc)
                self.failures += 1
            wait = min(MAX_WAIT_SECONDS, 2.0 ** (self.failures - 1)) if self.failures else 1.0
            self.wake.wait(wait)
            self.wake.clear()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()

    def start(self, name: str) -> "Retrying":
        threading.Thread(target=self.run, name=name, daemon=True).start()
        return self
