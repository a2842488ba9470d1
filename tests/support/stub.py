"""A stand-in for authz-service on loopback that counts TCP connections and requests, and
answers what a test scripts (a status, or dropping the connection after storing)."""

import http.server
import json
import threading
from collections.abc import Callable

DECISION = {"allowed": True, "reason": "ok", "rule": "r", "group": "admin", "decision_id": "d"}
PAGE = {"items": [], "next_cursor": None}
DROP = -1  # a scripted status: read the request, store it, close without answering


class Stub:
    """`script(method, path, n)` gives the status of the n-th request (1-based) to that path;
    every request is stored in `requests` before it is answered."""

    def __init__(self, script: Callable[[str, str, int], int] = lambda *_: 200,
                 answers: dict | None = None):
        """`answers`: the JSON a path answers with a 2xx status (default a decision or a page)."""
        self.script, self.requests, self.connections = script, [], 0
        self.answers = answers or {}
        self.lock = threading.Lock()
        stub = self
        self.targets: list[str] = []  # each request's path with its query, in order

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the service
            disable_nagle_algorithm = True

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                with stub.lock:
                    stub.requests.append((self.command, path, body))
                    stub.targets.append(self.path)
                    n = sum(1 for m, p, _ in stub.requests if (m, p) == (self.command, path))
                status = stub.script(self.command, path, n)
                if status == DROP:
                    self.close_connection = True
                    return
                default = DECISION if path == "/v1/authorize" else PAGE
                answer = stub.answers.get(path, default) if status < 300 else \
                    {"error": {"code": "unavailable", "message": "change stored"}}
                raw = json.dumps(answer).encode() if status != 204 else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one  # noqa: N815

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                with stub.lock:
                    stub.connections += 1
                super().process_request(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "Stub":
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, method: str, path: str) -> int:
        """How many requests reached the stub with this method and path."""
        with self.lock:
            return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))
