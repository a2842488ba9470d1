"""The Blueprint every resource uses: webargs failures become the contract's errors."""

import flask_smorest
import marshmallow as ma
from flask import current_app
from webargs.flaskparser import FlaskParser

from authz_service.api.errors import ApiError, Invalid, from_validation


class Parser(FlaskParser):
    """Bad JSON is 400; a shape error is 400; only invalid values are 422 (docs/api.md).

    An unknown query parameter is refused like an unknown body field (400), not ignored.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": ma.RAISE, "querystring": ma.RAISE}

    def _raw_load_json(self, req):
        data = super()._raw_load_json(req)
        refuse_nul(data)
        return data

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ApiError(400, "malformed_json", "the body is not valid JSON")

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1:
            (inner,) = messages.values()
            messages = inner if isinstance(inner, dict) else messages
        raise from_validation(messages)


def has_nul(value) -> bool:
    """True when any text in a parsed JSON value (or a list of query pairs) holds U+0000,
    which no store can keep (PostgreSQL)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def refuse_nul(value) -> None:
    """The 422 for text holding U+0000 (has_nul), in a body or a query."""
    if has_nul(value):
        raise ApiError(422, "invalid", "text may not contain NUL characters (U+0000)")


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with our parser."""

    ARGUMENTS_PARSER = Parser()


def state():
    """The app's loaded settings and policy."""
    return current_app.extensions["authz"]


def invalid(message: str) -> ma.ValidationError:
    """A validation error answered 422 (well-formed but not acceptable)."""
    return ma.ValidationError(Invalid(message))


def known_group(value: str) -> None:
    """One of the policy's groups (R2.1), else 422."""
    if value not in state().policy.vocab.groups:
        raise invalid(f"unknown group {value!r}; one of {', '.join(state().policy.vocab.groups)}")


def in_range(low: int, high: int):
    """A validator for integers in [low, high], answered 422 outside."""

    def check(value: int) -> None:
        if not low <= value <= high:
            raise invalid(f"must be between {low} and {high}")

    return check


def length(low: int, high: int):
    """A validator for string length in [low, high], answered 422 outside (well-formed, invalid)."""

    def check(value: str) -> None:
        if not low <= len(value) <= high:
            raise invalid(f"length must be between {low} and {high}")

    return check


def email_or_422(email: str) -> str:
    """A user name is an email (R2.2): lower-cased; an impossible one is 422."""
    local, at, domain = email.partition("@")
    if not at or not local or not domain or len(email) > 254 or any(c.isspace() for c in email):
        raise ApiError(422, "invalid_email", f"{email!r} is not an email address")
    return email.lower()


def id_or_422(value: str, what: str) -> str:
    """Account ids: 1-64 letters, digits, dot, dash, underscore."""
    ok = 0 < len(value) <= 64 and all(c.isalnum() or c in "._-" for c in value) and value.isascii()
    if not ok:
        raise ApiError(422, "invalid_id", f"{what} must be 1-64 letters, digits, '.', '_' or '-'")
    return value
