"""Signed checkpoints pushed to a second place (R7.6; docs/decisions/034-log-export-and-stream.md):
AUTHZ_LOG_WITNESS_PUSH is another folder (a replica's, a share mounted from elsewhere) or an
http(s) URL that is sent each checkpoint's signed note (POST, text/plain).

A thread of the log writer process pushes, never the writer's loop itself: it walks the local
witness folder (the record) in order and remembers the last checkpoint delivered in
`<witness folder>.pushed`, so one a push missed, or one `authz log checkpoint` signed in
another process, is pushed later. A failure is logged, counted
(authz_log_witness_push_failures_total) and retried after 1, 2, 4 ... 60 s; storing entries
never waits for it.
"""

import logging
import os
import urllib.error
import urllib.request

from authz_service import metrics
from authz_service.log import checkpoints
from authz_service.log.retrying import Retrying
from authz_service.private_files import publish_once, write_secret

log = logging.getLogger("authz.log_writer")
TIMEOUT_SECONDS = 5.0


def is_url(target: str) -> bool:
    return target.lower().startswith(("http://", "https://"))


def deliver(target: str, name: str, note: str) -> None:
    """One checkpoint to the target; OSError (urllib's errors are OSErrors) when it was not taken."""
    if not is_url(target):
        publish_once(os.path.join(target, name), note)  # a name already there is never rewritten
        return
    request = urllib.request.Request(target, data=note.encode(), method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8",
                                              "Authz-Checkpoint-Name": name})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (http(s) only)
        if not 200 <= answer.status < 300:
            raise OSError(f"{target} answered {answer.status}")


class Pusher(Retrying):
    """Pushes the witness folder's checkpoints, oldest first, each once delivered."""

    def __init__(self, settings):
        super().__init__()
        self.target, self.folder = settings.log_witness_push, checkpoints.witness_dir(settings)
        self.state = self.folder.rstrip(os.sep) + ".pushed"
        self.what = f"checkpoints not pushed to {self.target}"

    def last(self) -> str:
        try:
            with open(self.state, encoding="utf-8") as kept:
                return kept.read().strip()
        except OSError:
            return ""

    def step(self) -> int:
        """Push every checkpoint after the last delivered; how many. Stops at the first failure
        (counted; the next step retries it)."""
        last, done = self.last(), 0
        files = checkpoints.kept(self.folder) if os.path.isdir(self.folder) else []
        for path in files:
            name = os.path.basename(path)
            if name <= last:
                continue
            try:
                with open(path, encoding="utf-8") as note:
                    deliver(self.target, name, note.read())
            except (OSError, ValueError) as exc:
                self.failures += 1
                metrics.WITNESS_PUSH_FAILED.inc()
                log.warning("checkpoint %s not pushed to %s (try %d): %s", name, self.target, self.failures, exc)
                return done
            write_secret(self.state, name)
            self.failures, done = 0, done + 1
        return done


def start(settings) -> Retrying | None:
    """A pushing thread (daemon) when AUTHZ_LOG_WITNESS_PUSH is set; None otherwise."""
    if not settings.log_witness_push:
        return None
    if "://" in settings.log_witness_push and not is_url(settings.log_witness_push):
        log.error("AUTHZ_LOG_WITNESS_PUSH is a folder or an http(s) URL, not %s: nothing is pushed",
                  settings.log_witness_push.split("://")[0] + "://...")
        return None
    return Pusher(settings).start("authz-witness-push")
