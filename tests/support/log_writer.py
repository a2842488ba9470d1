"""The production decision-log writer for an in-process test app, one per test (R7.1, R7.4).

`authz serve` makes a spool file, holds its lock, starts `python -m authz_service.log.server
SPOOL SOCKET` and tells its workers both paths (serving/serve.py, serving/log_writer.py). The
API tests' app does the same per test, so its decisions take production's path: appended to
the spool before the answer, stored by the writer, read after `chain.sync()`.

A fresh interpreter per test costs about 0.3 s of CPU, so one host process imports the writer
once and forks each test's writer from it; the child runs authz_service.log.server's main()
unchanged, on the test's database, with the test's pipe as its standard input (closing it
stops the writer after it stored everything, as when the last worker of a server is gone).
Run as `python -m tests.support.log_writer SOCKET` it is that host.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

from authz_service.log import spool

ROOT = Path(__file__).resolve().parents[2]


class Writer:
    """One test's writer: its spool, the spool's lock (held as the server's master holds it) and its socket."""

    def __init__(self, conn: socket.socket, stdin: int, lock: int, spool_path: str, socket_path: str):
        self.conn, self.stdin, self.lock = conn, stdin, lock
        self.spool, self.socket = spool_path, socket_path

    def stop(self, timeout: float = 60) -> None:
        """Close its standard input; wait until it stored the rest and exited."""
        os.close(self.stdin)
        self.conn.settimeout(timeout)
        try:
            while self.conn.recv(4096):
                pass
        finally:
            self.conn.close()
            os.close(self.lock)


    def forget_appender(self) -> None:
        """Close this process's descriptors on the spool (`authz serve`'s workers end with them)."""
        appender = spool.current()
        if appender is not None and appender.path == self.spool:
            for fd in [*appender.old, *([appender.fd] if appender.fd is not None else [])]:
                os.close(fd)
            appender.fd, appender.old = None, []


class WriterHost:
    """The process that forks one writer per test."""

    def __init__(self, folder: Path):
        self.path = str(folder / "writer-host.sock")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.log_writer", self.path],
                                        cwd=ROOT, stdin=subprocess.DEVNULL)
        _wait_for(self.path, self.process.poll)

    def start(self, settings, database_url: str) -> Writer:
        """A writer on `database_url` for a new spool of `settings` (as `authz serve` makes one)."""
        spool_path = spool.new_spool_path(settings)
        lock = spool.hold(spool_path)
        socket_path = os.path.join(os.path.dirname(spool_path), "writer.sock")
        env = {"AUTHZ_DATABASE_URL": database_url, "AUTHZ_LOG_SPOOL_DIR": os.path.dirname(spool_path)}
        for name in ("log_key_file", "log_witness_dir"):  # the app's own, when the test set them
            if getattr(settings, name):
                env[f"AUTHZ_{name.upper()}"] = getattr(settings, name)
        read, write = os.pipe()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.path)
        socket.send_fds(conn, [json.dumps({"spool": spool_path, "socket": socket_path, "env": env}).encode()],
                        [read])
        os.close(read)
        writer = Writer(conn, write, lock, spool_path, socket_path)
        _wait_for(socket_path, lambda: 1 if select.select([conn], [], [], 0)[0] else None)  # readable: it died
        return writer

    def stop(self) -> None:
        """End the host (the writers it forked have ended with their tests)."""
        self.process.terminate()
        self.process.wait(timeout=30)


def _wait_for(path: str, exited, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if exited() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the decision log writer did not listen on {path}")
        time.sleep(0.005)


def _serve(path: str) -> None:
    """Fork a writer for each request: (spool, socket, env) and the fd of its standard input."""
    from authz_service.log import server  # imported once, here, before any fork

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the writers
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    while True:
        conn, _ = listener.accept()
        message, fds, _, _ = socket.recv_fds(conn, 65536, 1)
        if os.fork() == 0:
            listener.close()
            _run_writer(server, json.loads(message), fds[0])  # never returns
        conn.close()  # the child keeps its copy: it closes when the writer exits
        os.close(fds[0])


def _run_writer(server, request: dict, stdin: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(stdin, 0)
    os.close(stdin)
    os.environ.update(request["env"])
    sys.argv = ["authz_service.log.server", request["spool"], request["socket"]]
    code = 0
    try:
        server.main()
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


if __name__ == "__main__":
    _serve(sys.argv[1])
