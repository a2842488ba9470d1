"""The console's Invites (R1) and Mail outbox (R8.3) pages, per partner, read with the scope the
API asks for the same list: `manage` for invites, `audit` for the outbox (decision 036)."""

from flask import g, render_template, request

from authz_service import cursors
from authz_service.api import console_auth as auth
from authz_service.api.console import bp
from authz_service.api.notifications import STATUSES
from authz_service.store import directory, invites, outbox
from authz_service.store.models import utcnow


def _partner() -> tuple[list[dict], str]:
    partners = directory.list_accounts("partner")
    chosen = request.args.get("partner", "")
    known = [p["id"] for p in partners]
    return partners, chosen if chosen in known else (known[0] if known else "")


def _page(kind: str, fetch, key) -> tuple[list, str | None, str | None]:
    """(items, next cursor, error): a stale page link is said, not raised."""
    try:
        items, next_cursor = cursors.page(kind, request.args.get("cursor") or None, fetch, key)
        return items, next_cursor, None
    except cursors.InvalidCursor:
        return [], None, "That page link is not valid any more."


@bp.get("/invites", endpoint="invites")
@auth.signed_in
def invites_page():
    """A partner's invites, newest first, each pending, accepted, revoked or expired (R1.2)."""
    partners, partner = _partner()
    items: list[dict] = []
    next_cursor, error = None, None
    if auth.CHANGE_SCOPE not in g.console["scopes"]:
        error = "This key lacks the manage scope, which the invites API asks to list invites."
    elif partner:
        now = utcnow()
        items, next_cursor, error = _page(f"console-invites:{partner}",
                                          lambda after: invites.list_for(partner, after, 50, now),
                                          lambda i: i["invite_id"])
    return render_template("console/invites.html", partners=partners, partner=partner, items=items,
                           next_cursor=next_cursor, error=error)


@bp.get("/outbox", endpoint="outbox")
@auth.signed_in
def outbox_page():
    """A partner's service mail (R8): pending, retrying (pending after a failed attempt), sent, or
    failed, with the last error as the reason."""
    partners, partner = _partner()
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    items: list[dict] = []
    next_cursor, error = None, None
    if partner:
        items, next_cursor, error = _page(f"console-outbox:{partner}:{status}",
                                          lambda after: outbox.list_for(partner, status or None, after, 50),
                                          lambda i: i["id"])
    return render_template("console/outbox.html", partners=partners, partner=partner, status=status,
                           statuses=STATUSES, items=items, next_cursor=next_cursor, error=error)
