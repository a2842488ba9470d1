"""Starting a real `authz serve` (gunicorn) on a free loopback port for system tests."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUTHZ = Path(sys.executable).with_name("authz")
KEY = "system-test-key-0123456789abcdef"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def json_headers(key: str = KEY) -> dict:
    """The headers of a JSON request with a key (the server's bootstrap key unless told)."""
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


class Server:
    """`authz serve` with the demo data in its own SQLite file and a bootstrap key."""

    def __init__(self, tmp_path: Path, workers: int = 2, env: dict | None = None, threads: int | None = None,
                 server: str | None = None):
        self.port = free_port()
        self.log = tmp_path / f"server-{self.port}.log"
        self.env = {**os.environ, "AUTHZ_DATABASE_URL": f"sqlite:///{tmp_path}/authz.db",
                    "AUTHZ_BOOTSTRAP_KEY": KEY, "AUTHZ_LOG_SPOOL_DIR": str(tmp_path), **(env or {})}
        self.workers = workers
        self.threads = ["--threads", str(threads)] if threads else []  # `authz serve`'s default (1) unless told
        self.front = ["--server", server] if server else []  # `authz serve`'s default front unless told
        self.process = None

    def load_demo(self) -> None:
        subprocess.run([AUTHZ, "demo", "--no-key"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True, timeout=120)

    def start(self) -> "Server":
        with self.log.open("ab") as out:  # the server keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [AUTHZ, "serve", "--port", str(self.port), "--workers", str(self.workers),
                 *self.threads, *self.front],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "/readyz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server not ready: {self.log.read_text()[-2000:]}")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def call(self, method: str, path: str, body: dict | None = None, key: str = KEY):
        """(status, json body) of one request on a new connection."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers=json_headers(key))
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, (json.loads(raw) if raw else None)

    def call_text(self, path: str) -> str:
        """The body of a GET, as text (/metrics)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=15) as response:
            return response.read().decode()

    def run_cli(self, *args: str) -> subprocess.CompletedProcess:
        """`authz <args>` on this server's database."""
        return subprocess.run([AUTHZ, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)

    def pids_serving(self, path: str) -> set[int]:
        """Worker pids that answered requests for `path`, from the JSON access log."""
        pids = set()
        for line in self.log.read_text().splitlines():
            if line.startswith("{") and f'"path": "{path}"' in line:
                pids.add(json.loads(line)["pid"])
        return pids


def wait_ready(port: int, seconds: float = 30) -> None:
    """Until /readyz answers 200 on this port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not become ready")


def post(port: int, path: str, body: dict, key: str) -> tuple[int, dict]:
    """POST JSON with a key: (status, JSON body), errors included."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
        headers=json_headers(key))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def writer_pid(server: Server) -> int:
    """The pid of the log writer process `authz serve` started."""
    for pid in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split():
        if b"authz_service.log.server" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return int(pid)
    raise AssertionError("no log writer process")
