"""Bearer API keys and their scopes: 401 for a missing or unknown key, 403 without the scope."""

import hmac

from flask import Blueprint, current_app, g, request

from authz_service.api.errors import ApiError
from authz_service.store import keys

SCOPES = ("decide", "manage", "audit")


def caller_for(header: str, bootstrap: str | None) -> dict:
    """The caller named by an Authorization header: {"name", "scopes"}; a 401 ApiError if none."""
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "an API key is needed: Authorization: Bearer <key>")
    key = key.strip()
    if bootstrap and hmac.compare_digest(key.encode(), bootstrap.encode()):
        return {"name": "bootstrap", "scopes": frozenset(SCOPES)}
    found = keys.find(key)
    if found is None:
        raise ApiError(401, "unauthorized", "unknown, revoked or expired API key")
    return found


def _caller() -> dict:
    return caller_for(request.headers.get("Authorization", ""), current_app.config["AUTHZ"].bootstrap_key)


def check_scope(scope: str) -> None:
    """The caller's key must carry `scope` (401 without a live key, 403 without the scope);
    the caller's name is kept in `g.caller` for the log (R7.5)."""
    caller = _caller()
    if scope not in caller["scopes"]:
        raise ApiError(403, "missing_scope", f"this key lacks the {scope!r} scope", scope=scope)
    g.caller = caller["name"]


def require_scope_on(blueprint: Blueprint, scope: str) -> None:
    """Every view of `blueprint` needs `scope` (docs/decisions/024-one-way-in.md), checked
    before its arguments are read; OPTIONS, answered by Flask itself, needs no key."""

    def check() -> None:
        if request.method != "OPTIONS":
            check_scope(scope)

    blueprint.before_request(check)
