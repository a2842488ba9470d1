"""The reviewer console under /console: policy, "why", see as, Manage Users, activity (server-rendered)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from authz_service import links
from authz_service.api import console_auth as auth
from authz_service.api.base import state
from authz_service.api.fields import rfc3339
from authz_service.facts import gather, load_session
from authz_service.policy import NONE, Facts
from authz_service.store import directory

bp = Blueprint("console", __name__, url_prefix="/console")
bp.add_app_template_filter(lambda value: rfc3339(value) if value else "", "rfc3339")
PAGES = [("console.matrix", "Policy"), ("console.why", "Why"), ("console.customers", "See as"),
         ("console.links", "Manage users"), ("console.activity", "Activity")]


@bp.app_context_processor
def _template_helpers():
    from flask import current_app

    pages = [(e, label) for e, label in PAGES if e in current_app.view_functions]
    return {"csrf_token": auth.csrf_token, "console_pages": pages}


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    """Sign in with an audit-scoped key."""
    target = request.args.get("next", "")
    target = target if target.startswith("/console/") else url_for("console.matrix")
    if request.method == "POST":
        auth.check_csrf()
        if auth.sign_in(request.form.get("key", "").strip()):
            return redirect(target)
        flash("That key is unknown, revoked, expired, or lacks the audit scope.", "error")
    return render_template("console/signin.html", next=target), 200 if request.method == "GET" else 401


@bp.post("/signout")
@auth.signed_in
def signout():
    """Forget the key."""
    from flask import session

    session.clear()
    return redirect(url_for("console.signin"))


@bp.get("/")
@auth.signed_in
def home():
    """The policy page is the console's front page."""
    return redirect(url_for("console.matrix"))


@bp.get("/policy")
@auth.signed_in
def matrix():
    """The live permission matrix of the loaded policy."""
    policy = state().policy
    groups = policy.vocab.groups
    kinds = [(kind, [(action, [policy.decide(Facts(kind, "home", g, NONE, "none"), action).allowed
                               for g in groups]) for action in policy.vocab.actions])
             for kind in policy.vocab.account_kinds]
    scoping = [(home, [policy.decide(Facts("customer", "owner", home, link, "none"), "account.view").group
                       for link in (NONE, *groups)]) for home in groups]
    return render_template("console/matrix.html", version=policy.version, groups=groups,
                           kinds=kinds, scoping=scoping)


@bp.get("/why")
@auth.signed_in
def why():
    """A decision explained: facts, group, rule (file and line) and reason; not recorded."""
    policy = state().policy
    form = {k: request.args.get(k, "").strip() for k in ("user", "action", "account", "session")}
    result, facts, rule_text = None, [], None
    if form["user"] and policy.is_action(form["action"]):
        bound = load_session(form["session"]) if form["session"] else None
        account = form["account"] or (bound or {}).get("customer_id")
        got = gather(form["user"], account, bound, bool(form["session"]))
        result = policy.decide(got.facts, form["action"])
        facts = [("account kind", got.facts.kind), ("relation of user to account", got.facts.relation),
                 ("home account", got.home_account or "-"), ("home group", got.facts.home_group),
                 ("link group on this customer", got.facts.link_group),
                 ("session", got.facts.session), ("casbin request", f"{got.facts.who}, {got.facts.kind}, {form['action']}")]
        rule_text = next((", ".join((r.ptype, *r.fields)) for r in policy.rules if r.location == result.rule), None)
    return render_template("console/why.html", form=form, actions=policy.vocab.actions,
                           result=result, facts=facts, rule_text=rule_text)


@bp.get("/links", endpoint="links")
@auth.signed_in
def links_page():
    """The Manage Users panel of one customer, acting as a chosen partner user."""
    customers = directory.list_accounts("customer")
    customer = request.args.get("customer") or (customers[0]["id"] if customers else "")
    chosen = directory.get_account(customer) if customer else None
    actors = [u["email"] for u in directory.users_of(chosen["partner_id"])] if chosen else []
    actor = request.args.get("actor") or (actors[0] if actors else "")
    shown, linkable, error = None, [], None
    if chosen and actor:
        try:
            shown = links.list_links(state().policy, actor, customer, 500, None, "console")[0]
            linkable = links.linkable(state().policy, actor, customer, 500, None, "console")[0]
        except Exception as exc:  # a refusal is shown, not raised
            error = _explain(exc)
    return render_template("console/links.html", customers=customers, customer=customer,
                           actors=actors, actor=actor, links=shown, linkable=linkable,
                           groups=state().policy.vocab.groups, error=error)


@bp.get("/customers")
@auth.signed_in
def customers():
    """The Customers page a chosen user would see, masked cells marked with the missing action."""
    from authz_service import customers as page

    policy = state().policy
    partners = directory.list_accounts("partner")
    partner = request.args.get("partner") or (partners[0]["id"] if partners else "")
    viewers = directory.users_of(partner) if partner else []
    viewer = request.args.get("viewer") or (viewers[0]["email"] if viewers else "")
    sort = request.args.get("sort", "name")
    sort = sort if sort.lstrip("-") in page.SORTS else "name"
    hide = request.args.get("hide_inactive") == "true"
    actions = policy.field_actions("customers_page")
    rows, next_cursor, error = None, None, None
    if viewer:
        try:
            rows, next_cursor = page.page(policy, viewer, partner, sort, hide, 50,
                                          request.args.get("cursor") or None, "console")
        except Exception as exc:
            error = _explain(exc)
    for row in rows or []:
        seen = policy.visible_fields("customers_page", Facts("customer", "home", row["group"], NONE, "none"))
        row["masked"] = [c for c in actions if c not in seen]
    return render_template("console/customers.html", partners=partners, partner=partner,
                           viewers=viewers, viewer=viewer, sort=sort, hide_inactive=hide,
                           sorts=[w + c for c in page.SORTS for w in ("", "-")],
                           columns=list(actions), actions=actions, rows=rows,
                           next_cursor=next_cursor, error=error)


@bp.get("/activity")
@auth.signed_in
def activity():
    """An account's activity log with filters, newest first, and the chain's verification."""
    from authz_service import audit, cursors

    accounts = directory.list_accounts()
    account = request.args.get("account") or (accounts[0]["id"] if accounts else "")
    allowed = {"true": True, "false": False}.get(request.args.get("allowed", ""))
    filters = {"user": request.args.get("user", "").strip(), "allowed": allowed,
               "action": request.args.get("action", "").strip()}
    try:
        items, next_cursor = audit.account_log(account, filters, 50, request.args.get("cursor") or None)
    except cursors.InvalidCursor:
        items, next_cursor = [], None
        flash("That page link is not valid any more.", "error")
    return render_template("console/activity.html", accounts=accounts, account=account,
                           filters=filters, items=items, next_cursor=next_cursor,
                           verdict=audit.verify() if request.args.get("verify") else None)


def _link_action(do, done: str):
    """Run a link change as the chosen actor; show a refusal as a message; back to the panel."""
    customer, actor = request.form.get("customer", ""), request.form.get("actor", "")
    email = request.form.get("email", "")
    try:
        do(customer, actor, email)
        flash(done.format(email=email, customer=customer), "ok")
    except Exception as exc:
        flash(_explain(exc), "error")
    return redirect(url_for("console.links", customer=customer, actor=actor))


@bp.post("/links/add")
@auth.signed_in
def link_add():
    """Link user (group from the policy's default)."""
    return _link_action(lambda c, a, e: links.put(state().policy, a, c, e, None, "console"),
                        "Linked {email} to {customer}.")


@bp.post("/links/group")
@auth.signed_in
def link_change():
    """Change a linked user's group."""
    group = request.form.get("group", "")
    return _link_action(lambda c, a, e: links.put(state().policy, a, c, e, group or None, "console"),
                        "{email} is now " + group + " on {customer}.")


@bp.post("/links/revoke")
@auth.signed_in
def link_revoke():
    """Revoke a link (the X)."""
    return _link_action(lambda c, a, e: links.revoke(state().policy, a, c, e, "console"),
                        "Revoked {email}'s link to {customer}.")


def _explain(exc: Exception) -> str:
    """A refusal as a person reads it."""
    from authz_service import decisions
    from authz_service.store import Conflict, NotFound

    if isinstance(exc, decisions.Denied):
        return f"Refused: {exc.result['reason']} (decision {exc.result['decision_id']})"
    if isinstance(exc, NotFound | Conflict):
        return f"Refused: {exc}"
    from authz_service import cursors

    if isinstance(exc, cursors.InvalidCursor):
        return "That page link is not valid any more."
    raise exc
