"""The console's "Who has access" pages: per customer (every user, group, how, until when) and per
user (every account they act on and how), read from the policy in force (R10.3); not recorded."""

from flask import render_template, request

from authz_service import cursors
from authz_service.api import console_auth as auth
from authz_service.api.base import state
from authz_service.api.console import bp
from authz_service.portal import access
from authz_service.store import directory


def _page(call):
    """(items, next cursor, error) of one page; a stale page link is said, not raised."""
    try:
        items, next_cursor = call(request.args.get("cursor") or None)
        return items, next_cursor, None
    except cursors.InvalidCursor:
        return [], None, "That page link is not valid any more."


@bp.get("/access", endpoint="access")
@auth.signed_in
def customer_access():
    """Every user who holds a group on the chosen customer (optionally: allowed one action)."""
    policy = state().policy
    customers = directory.list_accounts("customer")
    customer = request.args.get("customer") or (customers[0]["id"] if customers else "")
    action = request.args.get("action", "").strip()
    items, next_cursor, error = None, None, None
    if action and not policy.is_action(action):
        error = f"Unknown action {action!r}."
    elif customer:
        items, next_cursor, error = _page(lambda cursor: access.who_can(
            customer, action or None, 100, cursor, policy=policy))
    return render_template("console/access.html", customers=customers, customer=customer,
                           action=action, actions=policy.vocab.actions, items=items,
                           next_cursor=next_cursor, error=error)


@bp.get("/access/user", endpoint="access_user")
@auth.signed_in
def user_access():
    """Every account the user acts on, the group and how."""
    email = request.args.get("email", "").strip().lower()
    items, next_cursor, error = None, None, None
    if email:
        items, next_cursor, error = _page(lambda cursor: access.accounts_for(
            email, None, 100, cursor, policy=state().policy))
    return render_template("console/access_user.html", email=email, items=items,
                           next_cursor=next_cursor, error=error)
