"""One error shape for every failure: {"error": {"code", "message", "details"}} (docs/api.md)."""

import logging

import marshmallow as ma
from flask import jsonify
from werkzeug.exceptions import HTTPException

from authz_service.api.error_table import HTTP_CODES, KINDS, UNEXPECTED, body, refusal_for

log = logging.getLogger("authz.api")

class ApiError(Exception):
    """An error a handler raises to answer with the contract's shape."""

    def __init__(self, status: int, code: str, message: str, /, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class Invalid(str):
    """A validation message for a well-formed but invalid value: answered 422, not 400."""


class ErrorBody(ma.Schema):
    """The inner error object."""

    code = ma.fields.String(required=True, metadata={"description": "snake_case_code"})
    message = ma.fields.String(required=True, metadata={"description": "for a person"})
    details = ma.fields.Dict(metadata={"description": "what was wrong, where"})


class ErrorSchema(ma.Schema):
    """Every error response (docs/api.md conventions)."""

    error = ma.fields.Nested(ErrorBody, required=True)


def is_semantic(messages) -> bool:
    """True when every validation message is an `Invalid` one (so 422, not 400)."""
    if isinstance(messages, dict):
        return bool(messages) and all(is_semantic(v) for v in messages.values())
    if isinstance(messages, list):
        return bool(messages) and all(is_semantic(v) for v in messages)
    return isinstance(messages, Invalid)


def from_validation(messages) -> ApiError:
    """A marshmallow failure: 422 when only values were invalid, else 400 (malformed)."""
    if is_semantic(messages):
        return ApiError(422, "invalid", "a value is not acceptable", fields=messages)
    return ApiError(400, "malformed", "the request does not match the expected shape",
                    fields=messages)


def extra_headers(status: int) -> list[tuple[str, str]]:
    """Headers an error answer carries besides its body: a 503 says when to retry; a 401 which
    scheme to use (RFC 9110 section 11.6.1; AuthZEN 1.0 asks for it too)."""
    if status == 401:
        return [("WWW-Authenticate", 'Bearer realm="authz-service"')]
    return [("Retry-After", "1")] if status == 503 else []


def handle_api_error(exc: ApiError):
    """Render an ApiError."""
    response = jsonify(body(exc.code, exc.message, exc.details))
    response.headers.extend(extra_headers(exc.status))
    return response, exc.status


def handle_http_exception(exc: HTTPException):
    """Render werkzeug's errors (404 route, 405, 413, ...) in our shape."""
    data = getattr(exc, "data", None) or {}
    if "messages" in data:
        messages = data["messages"]
        if exc.code == 400 and "json" in messages and messages.get("json") == ["Invalid JSON body."]:
            return handle_api_error(ApiError(400, "malformed_json", "the body is not valid JSON"))
        return handle_api_error(from_validation(_strip_location(messages)))
    code = exc.code or 500
    response = jsonify(body(HTTP_CODES.get(code, "error"), exc.description or exc.name))
    for name, value in exc.get_headers():
        if name.lower() == "allow":  # a 405 says which methods exist (RFC 9110)
            response.headers[name] = value
    return response, code


def handle_unexpected(exc: Exception):
    """Never a stack trace to the caller; the log keeps it."""
    log.exception("unexpected error")
    return jsonify(body(*UNEXPECTED)), 500


def _strip_location(messages: dict) -> dict:
    """webargs nests messages under the location ("json", "query"): keep the fields."""
    if len(messages) == 1:
        (only,) = messages.values()
        if isinstance(only, dict):
            return only
    return messages


def translate(exc: Exception) -> ApiError:
    """An exception of the layers below in the contract's terms, from the one table
    (api/error_table.py); one the table does not know is raised again (a 500)."""
    refusal = refusal_for(exc)
    if refusal is None:
        raise exc
    return ApiError(refusal.status, refusal.code, refusal.message, **refusal.details)


def init_app(app) -> None:
    """Register the handlers on the app: every kind the table knows, ApiError, werkzeug's, the rest."""
    for kind in KINDS:
        app.register_error_handler(kind, lambda exc: handle_api_error(translate(exc)))
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
