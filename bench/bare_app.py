"""The ceiling of the stack: a bare Flask JSON endpoint, served like the service (bench/http.py)."""

import sys

from flask import Flask, jsonify, request

from authz_service.config import Settings

sys.setswitchinterval(Settings().switch_interval_ms / 1000)  # as `authz serve` sets it in its workers
app = Flask(__name__)


@app.post("/v1/authorize")
def authorize():
    """Parse the JSON body and answer a fixed decision-shaped object."""
    body = request.get_json()
    return jsonify({"allowed": True, "decision_id": "0", "group": "admin", "reason": body["user"],
                    "rule": "bare"})
