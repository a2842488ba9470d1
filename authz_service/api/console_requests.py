"""The console's queue of requests for access (R10.2): a partner's pending requests, approved or
denied as asked by the signed-in console key (recorded as the key, R7.5)."""

from flask import flash, g, redirect, render_template, request, url_for

from authz_service.api import console_auth as auth
from authz_service.api.base import state, visible
from authz_service.api.console import _explain, bp
from authz_service.portal import access_requests
from authz_service.store import directory


@bp.get("/requests", endpoint="requests")
@auth.signed_in
def queue():
    """One partner's pending requests, oldest wait first."""
    partners = directory.list_accounts("partner")
    partner = request.args.get("partner") or (partners[0]["id"] if partners else "")
    items = access_requests.pending_of(partner) if partner else []
    items.sort(key=lambda item: item["created_at"])
    return render_template("console/requests.html", partners=partners, partner=partner, items=items,
                           can_change=auth.CHANGE_SCOPE in g.console["scopes"])


def _decide(approve_it: bool):
    partner, request_id = request.form.get("partner", ""), request.form.get("request_id", "")
    reason = request.form.get("reason", "").strip()
    reason = reason if visible(reason) else "denied from the console"  # decision 037: none blank
    try:
        done = access_requests.decide_by_key(state().policy, auth.acting_user(), request_id, approve_it,
                                             reason[:1000], g.console["name"])
        flash(f"Request of {done['requester']} for {done['customer_id']}: {done['status']}.", "ok")
    except Exception as exc:  # a refusal is shown, not raised
        flash(_explain(exc), "error")
    return redirect(url_for("console.requests", partner=partner))


@bp.post("/requests/approve")
@auth.changes
def request_approve():
    """Approve as asked: the expiring link is made (R10.1)."""
    return _decide(True)


@bp.post("/requests/deny")
@auth.changes
def request_deny():
    """Deny, with the reason typed."""
    return _decide(False)
