"""Bearer API keys and their scopes: 401 for a missing or unknown key, 403 without the scope."""

import functools
import hmac

from flask import current_app, g, request

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


def require_scope(scope: str):
    """Decorate a view: the caller's key must carry `scope`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            caller = _caller()
            if scope not in caller["scopes"]:
                raise ApiError(403, "missing_scope", f"this key lacks the {scope!r} scope",
                               scope=scope)
            g.caller = caller["name"]
            return view(*args, **kwargs)

        return wrapper

    return decorate
