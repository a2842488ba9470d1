"""Errors that gunicorn, not the app, answers (a malformed or too-large request head, a request
not read in time) in the contract's JSON error shape (docs/api.md; docs/decisions/017-slow-clients.md)."""

import json

from gunicorn import util

from authz_service.api.error_table import HTTP_CODES, UNEXPECTED, body

MESSAGES = {
    400: "the request is not valid HTTP",
    408: "the request was not received in time",
    413: "the body is too large",
    414: "the request line is too long",
    431: "the request's header fields are too large",
    500: UNEXPECTED[1],
    501: "the request's transfer coding is not supported",
}


def response(status: int, reason: str, detail: str = "") -> bytes:
    """A whole `Connection: close` HTTP/1.1 answer with the JSON error body."""
    message = MESSAGES.get(status, reason.lower() or "the request cannot be served")
    details = {"reason": detail[:200]} if detail and status != 500 else {}
    payload = json.dumps(body(HTTP_CODES.get(status, "bad_request"), message, details)).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode("latin-1") + payload


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's replacement: the same answer, as JSON instead of HTML."""
    util.write_nonblock(sock, response(status_int, reason, mesg))


def install() -> None:
    """Every error gunicorn writes itself (workers' handle_error) goes through write_error."""
    util.write_error = write_error
