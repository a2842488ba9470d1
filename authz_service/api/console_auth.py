"""Console sign-in with an `audit` API key, kept in a signed HttpOnly SameSite cookie; CSRF tokens."""

import functools
import hashlib
import hmac
import secrets

from flask import abort, current_app, redirect, request, session, url_for

from authz_service.store import keys as store_keys

SCOPE = "audit"


def key_fingerprint(key: str) -> str:
    """What the cookie keeps: the key's digest, re-checked on every page (revocation bites)."""
    return hashlib.sha256(key.encode()).hexdigest()


def sign_in(key: str) -> str | None:
    """The key's name when it is live and has the audit scope, else None."""
    bootstrap = current_app.config["AUTHZ"].bootstrap_key
    if bootstrap and hmac.compare_digest(key.encode(), bootstrap.encode()):
        name, scopes = "bootstrap", {SCOPE}
    else:
        found = store_keys.find(key)
        if found is None:
            return None
        name, scopes = found["name"], found["scopes"]
    if SCOPE not in scopes:
        return None
    session.clear()
    session["key"] = key_fingerprint(key)
    session["name"] = name
    session["csrf"] = secrets.token_urlsafe(32)
    return name


def _is_signed_in() -> bool:
    fingerprint = session.get("key")
    if not fingerprint:
        return False
    bootstrap = current_app.config["AUTHZ"].bootstrap_key
    if bootstrap and hmac.compare_digest(fingerprint, key_fingerprint(bootstrap)):
        return True
    found = store_keys.find_by_digest(fingerprint)
    return bool(found) and SCOPE in found["scopes"]


def signed_in(view):
    """Every console page: redirect to sign-in without a live audit key; CSRF on every POST."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not _is_signed_in():
            session.clear()
            return redirect(url_for("console.signin", next=request.path))
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)

    return wrapper


def check_csrf() -> None:
    """Refuse a POST whose form token does not match the session's (400)."""
    sent, kept = request.form.get("csrf_token", ""), session.get("csrf", "")
    if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        abort(400, description="missing or forged CSRF token")


def csrf_token() -> str:
    """The session's CSRF token (made on first use, e.g. on the sign-in page)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]
