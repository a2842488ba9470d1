"""The console's Keys page: every API key's name, scopes, creation, expiry and state (never a
key: only digests are kept); create one, shown once; revoke by name (decision 036).

Changing keys needs `manage` (as every console change, decision 015), and a console key never
makes or revokes a key with a scope it does not hold itself: no key can mint a stronger one.
"""

import re
from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for

from authz_service.api import console_auth as auth
from authz_service.api.console import bp
from authz_service.store import keys
from authz_service.store.models import utcnow

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
EXPIRIES = {"1": "1 day", "7": "7 days", "30": "30 days", "90": "90 days", "365": "1 year", "": "never"}


def _state(key: dict, now) -> str:
    if key["revoked_at"]:
        return "revoked"
    return "expired" if key["expires_at"] and key["expires_at"] <= now else "live"


def _page(made: tuple[str, str] | None = None, status: int = 200):
    now = utcnow()
    rows = [{**k, "scopes": k["scopes"].split(","), "state": _state(k, now)} for k in keys.list_keys()]
    return render_template("console/keys.html", keys=rows, made=made, expiries=EXPIRIES,
                           scopes=sorted(auth.ALL_SCOPES), own=g.console["scopes"],
                           can_change=auth.CHANGE_SCOPE in g.console["scopes"]), status


@bp.get("/keys", endpoint="keys")
@auth.signed_in
def keys_page():
    """Every key and its state, newest last."""
    return _page()


@bp.post("/keys/create")
@auth.changes
def key_create():
    """A new key with the chosen scopes and expiry, shown on this response only (never stored,
    never in a cookie or a redirect)."""
    name, scopes = request.form.get("name", "").strip(), request.form.getlist("scope")
    days = request.form.get("expires_in_days", "")
    if not NAME.match(name):
        flash("A key's name is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit.", "error")
    elif not scopes or not set(scopes) <= auth.ALL_SCOPES or days not in EXPIRIES:
        flash("Choose at least one scope (decide, manage, audit) and an expiry from the list.", "error")
    elif not set(scopes) <= g.console["scopes"]:
        flash("Refused: this console key cannot give a scope it lacks: "
              + ", ".join(sorted(set(scopes) - g.console["scopes"])) + ".", "error")
    else:
        expires = utcnow() + timedelta(days=int(days)) if days else None
        return _page((name, keys.create(name, scopes, expires)), 201)
    return _page(status=422)


@bp.post("/keys/revoke")
@auth.changes
def key_revoke():
    """Revoke every live key with this name, unless one of them holds a scope this key lacks."""
    name = request.form.get("name", "")
    live = [k for k in keys.list_keys() if k["name"] == name and _state(k, utcnow()) == "live"]
    stronger = {s for k in live for s in k["scopes"].split(",")} - g.console["scopes"]
    if not live:
        flash(f"No live key is named {name[:100]!r}.", "error")
    elif stronger:
        flash(f"Refused: {name!r} holds {', '.join(sorted(stronger))}, which this console key lacks.", "error")
    else:
        flash(f"Revoked {keys.revoke(name)} key(s) named {name!r}.", "ok")
    return redirect(url_for("console.keys"))
