"""The console's Manage Users page (/console/links) and its forms: link, change group, revoke."""

from flask import flash, g, redirect, render_template, request, url_for

from authz_service.api import console_auth as auth
from authz_service.api.base import state
from authz_service.api.console import _explain, _one_of, bp
from authz_service.portal import manage_users
from authz_service.store import Conflict, directory


@bp.get("/links", endpoint="links")
@auth.signed_in
def links_page():
    """The Manage Users panel of one customer, as the console key or previewed as a partner user."""
    customers = directory.list_accounts("customer")
    customer = request.args.get("customer") or (customers[0]["id"] if customers else "")
    chosen = directory.get_account(customer) if customer else None
    chosen = chosen if chosen and chosen["kind"] == "customer" else None
    actors = [u["email"] for u in directory.users_of(chosen["partner_id"])] if chosen else []
    actor, error = _one_of(request.args.get("actor", ""), actors, chosen["partner_id"] if chosen else None)
    shown, linkable, holders = None, [], []
    if chosen and not error:
        policy, who = state().policy, actor or None
        try:  # a preview as `actor` is decided, never recorded as them (R7.5)
            shown = manage_users.list_links(policy, who, customer, 500, None, preview=True)[0]
            linkable = manage_users.linkable(policy, who, customer, 500, None, preview=True)[0]
            holders = manage_users.who_has_access(policy, who, customer, 500, None, preview=True)[0]
        except Exception as exc:  # a refusal is shown, not raised
            error = _explain(exc)
    return render_template("console/links.html", customers=customers, customer=customer,
                           actors=actors, actor=actor, links=shown, linkable=linkable, holders=holders,
                           groups=[x for x in state().policy.vocab.groups if state().policy.is_linkable(x)],
                           error=error, can_change=auth.CHANGE_SCOPE in g.console["scopes"])


def _link_action(do, done: str):
    """Run a link change as the console key (recorded as the key, R7.5: no form field names whom
    it is attributed to); show a refusal as a message; back to the panel."""
    customer, email = request.form.get("customer", ""), request.form.get("email", "").strip().lower()
    try:
        do(customer, auth.acting_user(), email)
        flash(done.format(email=email, customer=customer), "ok")
    except Exception as exc:
        flash(_explain(exc), "error")
    return redirect(url_for("console.links", customer=customer))


@bp.post("/links/add")
@auth.changes
def link_add():
    """Link user (group from the policy's default)."""
    return _link_action(lambda c, who, e: manage_users.put_by_key(state().policy, who, c, e, None, g.console["name"]),
                        "Linked {email} to {customer}.")


@bp.post("/links/group")
@auth.changes
def link_change():
    """Change a linked user's group (one the policy lets a link give)."""
    group = request.form.get("group", "")

    def change(customer, who, email):
        if group not in state().policy.vocab.groups or not state().policy.is_linkable(group):
            raise Conflict("invalid_group", f"{group!r} is not a group a link can give")
        return manage_users.put_by_key(state().policy, who, customer, email, group, g.console["name"])

    return _link_action(change, "{email} is now " + group + " on {customer}.")


@bp.post("/links/revoke")
@auth.changes
def link_revoke():
    """Revoke a link (the X)."""
    return _link_action(lambda c, who, e: manage_users.revoke_by_key(who, c, e, g.console["name"]),
                        "Revoked {email}'s link to {customer}.")
