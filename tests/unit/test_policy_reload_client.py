"""The client's @requires fails closed: whatever the service answers, a guarded route never answers 500.

A policy that a reload broke used to make the service answer 500, which the client
raised into the calling service's view (issue class 5)."""

import http.server
import threading

import pytest
from authz_client import AuthzClient
from authz_client.flask import requires
from flask import Flask, g

ANSWERS = {
    "server_error": (500, "text/html", b"<h1>Internal Server Error</h1>"),
    "bad_gateway": (502, "application/json", b'{"error": {"code": "x", "message": "y"}}'),
    "not_a_decision": (200, "application/json", b'{"unexpected": true}'),
    "not_json": (200, "text/plain", b"hello"),
    "unknown_action": (400, "application/json",
                       b'{"error": {"code": "unknown_action", "message": "unknown action"}}'),
    "bad_key": (401, "application/json", b'{"error": {"code": "unauthorized", "message": "no key"}}'),
}


@pytest.fixture
def service():
    """A stand-in for authz-service on loopback answering what the test names in `served`."""
    served = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the stdlib's name)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, kind, body = served["answer"]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_requires_never_answers_500(service, answer):
    """Each answer the service might give that is not an allow: the guarded view does not run; 403."""
    served, url = service
    served["answer"] = ANSWERS[answer]
    app = Flask("caller")
    app.extensions["authz_client"] = AuthzClient(url, "key", timeout=2, retries=1, backoff=0)
    ran = []

    @app.before_request
    def who():
        g.authz_user = "rita@acme.example"

    @app.post("/customers/<customer_id>/ports")
    @requires("port.create", account="customer_id")
    def create_port(customer_id):
        ran.append(customer_id)
        return {"created": customer_id}

    answered = app.test_client().post("/customers/initech/ports")
    assert answered.status_code == 403 and answered.json["error"]["code"] == "forbidden"
    assert answered.json["error"]["details"]["rule"] == "client:fail-closed"
    assert ran == []
