"""Console sign-in with an `audit` API key, kept server-side (the signed HttpOnly SameSite cookie
carries only a random session id); changes need `manage` too; CSRF tokens."""

import functools
import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from authz_service.store import console_sessions, keys
from authz_service.store.models import utcnow

SCOPE = "audit"  # to sign in and read
CHANGE_SCOPE = "manage"  # to change anything (issue 16 class 2)
ALL_SCOPES = frozenset({"decide", "manage", "audit"})


def key_fingerprint(key: str) -> str:
    """What the session keeps: the key's digest, re-checked on every page (revocation bites)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _scopes_of(fingerprint: str) -> frozenset | None:
    """The live key's scopes (the bootstrap key has all), None when unknown, revoked or expired."""
    bootstrap = current_app.config["AUTHZ"].bootstrap_key
    if bootstrap and hmac.compare_digest(fingerprint, key_fingerprint(bootstrap)):
        return ALL_SCOPES
    found = keys.find_by_digest(fingerprint)
    return found["scopes"] if found else None


def sign_in(key: str) -> str | None:
    """The key's name when it is live and has the audit scope (a new server-side session), else None."""
    bootstrap = current_app.config["AUTHZ"].bootstrap_key
    name: str | None
    if bootstrap and hmac.compare_digest(key.encode(), bootstrap.encode()):
        name = "bootstrap"
    else:
        found = keys.find(key)
        name = found["name"] if found else None
    if name is None or SCOPE not in (_scopes_of(key_fingerprint(key)) or ()):
        return None
    session_id = secrets.token_urlsafe(32)
    hours = current_app.config["AUTHZ"].console_session_hours
    console_sessions.create(session_id, key_fingerprint(key), name, utcnow() + timedelta(hours=hours))
    sign_out()  # a session already open in this browser ends first
    session["sid"] = session_id
    session["csrf"] = secrets.token_urlsafe(32)
    return name


def sign_out() -> None:
    """Delete the server-side session: a copy of the cookie signs nobody in afterwards."""
    if session.get("sid"):
        console_sessions.delete(session["sid"])
    session.clear()


def _signed_in() -> dict | None:
    """{"name", "scopes"} of the live session's key when it has the audit scope, else None."""
    session_id = session.get("sid")
    found = console_sessions.find(session_id) if isinstance(session_id, str) else None
    if found is None:
        return None
    scopes = _scopes_of(found["key_hash"])
    if not scopes or SCOPE not in scopes:
        return None
    return {"name": found["key_name"], "scopes": scopes}


def signed_in(view):
    """Every console page: redirect to sign-in without a live audit key; CSRF on every POST."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.console = _signed_in()
        if g.console is None:
            session.clear()
            return redirect(url_for("console.signin", next=request.path))
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)

    return wrapper


def changes(view):
    """A console action that changes anything: the signed-in key needs `manage` too, else a 403
    page and nothing changes (must-hold 2)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if CHANGE_SCOPE not in g.console["scopes"]:
            return render_template("console/refused.html", scope=CHANGE_SCOPE), 403
        return view(*args, **kwargs)

    return signed_in(wrapper)


def acting_user() -> str:
    """Whom a console change is recorded as: the console key itself, never a name from a form (R7.5)."""
    return f"console key {g.console['name']}"


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


# Where sign-in may send the browser back to: a console path of URL characters only, no "//",
# no "..", no backslash or control character (a CR/LF in a Location header was a 500; "//host"
# or "/console/..//host" could leave the console). Anything else: the console's first page.
NEXT = re.compile(r"(?!.*(?://|\.\.))/console/[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,500}")


def safe_next(target: str, default: str) -> str:
    """`target` when it is a console path (NEXT), else `default`."""
    return target if NEXT.fullmatch(target) else default
