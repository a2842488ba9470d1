"""The host's decision-log writer process, started and watched by `authz serve` (docs/decisions/007-log-spool.md)."""

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time

from authz_service.log import spool


class LogWriter:
    """The host's decision-log writer process (authz_service/log/server.py), restarted if it dies.

    It reads its standard input only to see it close: every process of the server holds
    the pipe, so it exits once the last of them is gone, after storing their last entries.
    """

    def __init__(self, spool_path: str, folder: str):
        self.spool = spool_path
        self.lock = spool.hold(spool_path)  # inherited by the workers: the spool is live while any runs
        self.socket = os.path.join(folder, "writer.sock")
        self.process: subprocess.Popen | None = None
        self.stopping = False
        self.owner = os.getpid()

    def start(self) -> "LogWriter":
        """Start the writer and wait until it has stored earlier spools and listens; then watch it."""
        self._spawn()
        threading.Thread(target=self._watch, name="log-writer-watch", daemon=True).start()
        return self

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "authz_service.log.server", self.spool, self.socket],
            stdin=subprocess.PIPE)
        deadline = time.monotonic() + 300  # a large spool left by a killed server is stored first
        while not os.path.exists(self.socket) and self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)

    def _started(self) -> subprocess.Popen:
        """The writer process `start` spawned (the latest, after a restart)."""
        if self.process is None:
            raise RuntimeError("the decision log writer was not started")
        return self.process

    def _watch(self) -> None:
        while True:
            code = self._started().wait()
            if self.stopping:
                return
            logging.getLogger("authz.serve").warning(
                "the decision log writer exited (%s); restarting it (entries wait in the spool)", code)
            time.sleep(1)
            self._spawn()

    def stop(self, timeout: float = 60) -> None:
        """After the workers are gone: let the writer store their last entries and exit."""
        if os.getpid() != self.owner:  # a worker leaving: the server goes on
            return
        self.stopping = True
        process = self._started()
        with contextlib.suppress(OSError):
            if process.stdin is not None:  # it is: the process is spawned with stdin=PIPE
                process.stdin.close()  # the last holder of the pipe in this process
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:  # its entries stay in the spool for the next start
            logging.getLogger("authz.serve").warning("the decision log writer did not finish in %ss", timeout)
