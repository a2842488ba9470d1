"""The Blueprint every resource uses: webargs failures become the contract's errors."""

import unicodedata

import flask_smorest
import marshmallow as ma
from flask import current_app
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from authz_service import usernames
from authz_service.api import keys, request_input
from authz_service.api.errors import ApiError, Invalid, from_validation


class Parser(FlaskParser):
    """Bad JSON is 400; a shape error is 400; only invalid values are 422 (docs/api.md).

    An unknown query parameter is refused like an unknown body field (400), not ignored.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": ma.RAISE, "querystring": ma.RAISE}

    def _raw_load_json(self, req):
        """The body through request_input.loads; a body sent as anything but JSON is 400
        `wrong_content_type`, not "missing fields" (docs/decisions/016-hostile-input.md)."""
        if not is_json_request(req):
            if req.get_data(cache=True):
                raise ApiError(400, "wrong_content_type", "the body must be sent as "
                               "Content-Type: application/json", content_type=req.mimetype)
            return missing
        return request_input.loads(req.get_data(cache=True))

    def load_querystring(self, req, schema):
        """A query parameter given twice is 400, not its first value taken silently: a proxy or
        a filter in front that reads the last one must never see another request than this one
        (parameter pollution; decision 037). No query field of the API is a list."""
        repeated = sorted(name for name in req.args if len(req.args.getlist(name)) > 1)
        if repeated:
            raise from_validation({name: ["given more than once"] for name in repeated})
        return super().load_querystring(req, schema)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ApiError(400, "malformed_json", "the body is not valid JSON")

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1:
            (inner,) = messages.values()
            messages = inner if isinstance(inner, dict) else messages
        raise from_validation(messages)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with our parser, and the one API key scope (docs/api.md) every
    one of its views needs, declared once: `scope=None` only where no key is asked (operations)."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, name: str, import_name: str, *, scope: str | None, **kwargs) -> None:
        super().__init__(name, import_name, **kwargs)
        self.scope = scope
        if scope is not None:
            keys.require_scope_on(self, scope)


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


BLANK = {"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"}  # spaces, controls, zero-width/bidi marks


def visible(text: str) -> bool:
    """Whether the text holds a character one can see (not only spaces or invisible marks)."""
    return not all(unicodedata.category(c) in BLANK for c in text)


def length(low: int, high: int):
    """A validator for string length in [low, high], answered 422 outside (well-formed, invalid).
    A text that must not be empty must not be blank either (spaces, zero-width or bidi marks only):
    a reason or a name nobody can read is none (decision 037)."""

    def check(value: str) -> None:
        if not low <= len(value) <= high:
            raise invalid(f"length must be between {low} and {high}")
        if low and not visible(value):
            raise invalid("must hold a visible character, not only spaces or invisible marks")

    return check


def email_or_422(email: str) -> str:
    """A user name is an email (R2.2), in its stored form; what R2.3 refuses is 422
    (usernames.InvalidUserName, answered by errors.translate)."""
    return usernames.stored_form(email)


def id_or_422(value: str, what: str) -> str:
    """Account ids: 1-64 letters, digits, dot, dash, underscore."""
    ok = 0 < len(value) <= 64 and all(c.isalnum() or c in "._-" for c in value) and value.isascii()
    if not ok:
        raise ApiError(422, "invalid_id", f"{what} must be 1-64 letters, digits, '.', '_' or '-'")
    return value
