"""The one table from the layers' exceptions to the contract's errors (docs/api.md conventions,
docs/decisions/024-one-way-in.md): status, code, message and details.

No Flask here: the app's error handlers (api/errors.py), the authorize fast path (api/fast.py),
the console's refusal messages and the errors gunicorn answers itself (serving/http_errors.py)
all read it, so one exception gets one answer wherever it is raised.
"""

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from authz_service import cursors, usernames
from authz_service.decide import authorize
from authz_service.log import chain
from authz_service.portal import access_requests, service_events
from authz_service.store import Conflict, DatabaseError, IntegrityError, NotFound, Unconfirmed

log = logging.getLogger("authz.api")

# Every HTTP status an answer can carry, and its code when nothing more precise is known.
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 408: "request_timeout", 409: "conflict", 413: "request_too_large",
    414: "uri_too_long", 415: "unsupported_media_type", 417: "expectation_failed", 422: "invalid",
    431: "header_fields_too_large", 500: "internal", 501: "not_implemented", 503: "unavailable",
}
UNEXPECTED = ("internal", "unexpected error; it has been logged")


class Refusal(NamedTuple):
    """An exception in the contract's terms: `{"error": {code, message, details}}` with status."""

    status: int
    code: str
    message: str
    details: dict


def body(code: str, message: str, details: dict | None = None) -> dict:
    """The error payload: the contract's one shape."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


class Row(NamedTuple):
    """One kind of exception and how it is answered; `code` None: the exception names its own."""

    kind: type[Exception]
    status: int
    code: str | None
    describe: Callable[[Any], tuple[str, dict]]  # the exception -> (message, details)


def _denied(exc: authorize.Denied) -> tuple[str, dict]:
    """R7.1: a denial names the decision that was recorded, its rule and group."""
    result = exc.result
    return result["reason"], {"decision_id": result["decision_id"], "rule": result["rule"],
                              "group": result["group"]}


def _log_unavailable(exc: chain.LogUnavailable) -> tuple[str, dict]:
    log.error("decision log unavailable: %s", exc)
    return "the decision log cannot record now, so nothing was decided; retry later", {}


def _unconfirmed(exc: Unconfirmed) -> tuple[str, dict]:
    log.error("change not confirmed by every server: %s", exc)
    return (f"{exc}; until it is, a server may still decide by what it replaced: check the "
            "change, then retry"), {}


def _database_unavailable(exc: DatabaseError) -> tuple[str, dict]:
    log.error("database unavailable: %s", exc, exc_info=True)
    return "the database cannot answer now; nothing was decided or changed; retry later", {}


# Looked up in order: the first row whose kind the exception is answers (a subclass first).
ROWS: tuple[Row, ...] = (
    Row(usernames.InvalidUserName, 422, "invalid_email", lambda e: (str(e), {"reason": e.why})),
    Row(NotFound, 404, "not_found", lambda e: (str(e), {"what": e.what, "id": e.key})),
    Row(Conflict, 409, None, lambda e: (e.message, dict(e.details))),
    Row(authorize.Denied, 403, "forbidden", _denied),
    Row(authorize.TooLong, 422, "invalid", lambda e: (str(e), {"field": e.field, "limit": e.limit})),
    Row(authorize.UnknownAction, 400, "unknown_action",
        lambda e: (f"unknown action {e.args[0]!r}", {"action": e.args[0]})),
    Row(service_events.NotUpgradable, 422, "not_upgradable",
        lambda e: (f"a {e.args[0]} service has no upgrade (R3)", {"kind": e.args[0]})),
    Row(access_requests.InvalidRequest, 422, None, lambda e: (e.message, {})),
    Row(cursors.InvalidCursor, 422, "invalid_cursor", lambda e: (str(e), {})),
    Row(chain.LogUnavailable, 503, "unavailable", _log_unavailable),
    Row(Unconfirmed, 503, "unavailable", _unconfirmed),
    Row(IntegrityError, 409, "conflict",
        lambda e: ("the change conflicts with one made at the same time; retry", {})),
    Row(DatabaseError, 503, "unavailable", _database_unavailable),
)
KINDS = tuple(row.kind for row in ROWS)


def row_for(exc: BaseException) -> Row | None:
    """The table's row for exc, None when the table does not know it (then it is a 500)."""
    return next((row for row in ROWS if isinstance(exc, row.kind)), None)


def describe(row: Row, exc: BaseException) -> Refusal:
    """exc, of the row's kind, in the contract's terms; a 503 is logged."""
    message, details = row.describe(exc)
    return Refusal(row.status, row.code or exc.code, message, details)  # type: ignore[attr-defined]


def refusal_for(exc: BaseException) -> Refusal | None:
    """exc in the contract's terms, None when the table does not know it."""
    row = row_for(exc)
    return None if row is None else describe(row, exc)
