"""The ceiling of the stack: a bare Flask JSON endpoint, served like the service (bench/serve_throughput.py).

    python -m bench.bare_app PORT WORKERS THREADS   # gunicorn with `authz serve`'s settings
"""

import sys

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/v1/authorize")
def authorize():
    """Parse the JSON body and answer a fixed decision-shaped object."""
    body = request.get_json()
    return jsonify({"allowed": True, "decision_id": "0", "group": "admin", "reason": body["user"],
                    "rule": "bare"})


if __name__ == "__main__":
    from authz_service.serving.serve import gunicorn_options, serve_app

    port, workers, threads = (int(a) for a in sys.argv[1:4])
    serve_app(app, gunicorn_options("127.0.0.1", port, workers, threads))
