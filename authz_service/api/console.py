"""The reviewer console under /console: policy, "why", see as, Manage Users, activity (server-rendered)."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from authz_service.api import console_auth as auth
from authz_service.api import console_format, error_table
from authz_service.api.base import state
from authz_service.api.fields import rfc3339, time_left
from authz_service.api.request_input import refuse_unstorable
from authz_service.policy import cells, invariants
from authz_service.portal import customers as page
from authz_service.store import directory

bp = Blueprint("console", __name__, url_prefix="/console")
HEADERS = {  # no framing (clickjacking), no caching, no sniffing, no referrer (must-hold 7)
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
bp.add_app_template_filter(lambda value: rfc3339(value) if value else "", "rfc3339")
console_format.register(bp)
# The navigation, in this order; a page shows once its module registered the endpoint on bp
# (so pages added in their own modules, e.g. the change preview, log integrity and access
# requests, need only a row here).
PAGES = [("console.matrix", "Policy"), ("console.preview", "Preview a policy change"), ("console.why", "Why"),
         ("console.customers", "See as"), ("console.links", "Manage users"),
         ("console.access", "Who has access"), ("console.requests", "Access requests"),
         ("console.keys", "Keys"), ("console.invites", "Invites"),
         ("console.activity", "Activity"), ("console.log_integrity", "Log integrity"),
         ("console.outbox", "Mail outbox")]
bp.add_app_template_filter(time_left, "time_left")  # R10.1: a link's time left


@bp.app_context_processor
def _template_helpers():
    pages = [(e, label) for e, label in PAGES if e in current_app.view_functions]
    return {"csrf_token": auth.csrf_token, "console_pages": pages, "console_key": g.get("console")}


@bp.before_request
def _refuse_nul_in_forms():
    """A form value holding U+0000 is refused before anything reads it (the query's are, app-wide)."""
    refuse_unstorable(list(request.form.items(multi=True)))


def protect_response(response):
    """Every response under /console, errors and redirects included, carries HEADERS."""
    if request.path == "/console" or request.path.startswith("/console/"):
        response.headers.update(HEADERS)
    return response


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    """Sign in with an audit-scoped key."""
    target = auth.safe_next(request.args.get("next", ""), url_for("console.matrix"))
    if request.method == "POST":
        auth.check_csrf()
        if auth.sign_in(request.form.get("key", "").strip()):
            return redirect(target)
        flash("That key is unknown, revoked, expired, or lacks the audit scope.", "error")
    return render_template("console/signin.html", next=target), 200 if request.method == "GET" else 401


@bp.post("/signout")
@auth.signed_in
def signout():
    """End the session server-side: a kept copy of the cookie signs nobody in afterwards."""
    auth.sign_out()
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
    return render_template("console/matrix.html", version=policy.version, groups=policy.vocab.groups,
                           kinds=cells.grid(policy), scoping=cells.scoping_grid(policy),
                           invariants=policy.invariants, broken=_broken(policy))


_proofs: dict[str, dict[str, str]] = {}


def _broken(policy) -> dict[str, str]:
    """{invariant name: counterexample} of the loaded policy, proven once per version and process
    (a policy that breaks one is refused at load, R9.5: this shows the proof, it does not replace it)."""
    if policy.version not in _proofs:
        _proofs.clear()
        _proofs[policy.version] = {v.invariant.name: v.describe() for v in invariants.check(policy)}
    return _proofs[policy.version]


def _sort_names() -> dict[str, str]:
    """Each sort's label: the seed's column name and the direction."""
    names = {"name": "Name", **console_format.COLUMN_NAMES}
    return {w + c: names.get(c, c) + (", descending" if w else "") for c in page.SORTS for w in ("", "-")}


def _one_of(chosen: str, users: list[str], partner: str | None) -> tuple[str, str | None]:
    """The chosen user when they belong to this partner, re-checked on every page (a switch of
    partner never evaluates the previous partner's user); else none and why."""
    chosen = chosen.strip().lower()
    if not chosen or chosen in users:
        return chosen, None
    return "", f"That user is not a user of partner {partner}: choose one of its users."


@bp.get("/customers")
@auth.signed_in
def customers():
    """The Customers page a chosen user would see, masked cells marked with the missing action."""
    policy = state().policy
    partners = directory.list_accounts("partner")
    partner = request.args.get("partner") or (partners[0]["id"] if partners else "")
    viewers = directory.users_of(partner) if partner else []
    asked = request.args.get("viewer") or (viewers[0]["email"] if viewers else "")
    viewer, error = _one_of(asked, [v["email"] for v in viewers], partner)
    sort = request.args.get("sort", "name")
    sort = sort if sort.lstrip("-") in page.SORTS else "name"
    hide = request.args.get("hide_inactive") == "true"
    actions = policy.field_actions("customers_page")
    rows, next_cursor = None, None
    if viewer:
        try:  # "see as" is a preview: decided, never recorded as the viewer (R7.5)
            rows, next_cursor = page.page(policy, viewer, partner, sort, hide, 50,
                                          request.args.get("cursor") or None, preview=True)
        except Exception as exc:
            error = _explain(exc)
    for row in rows or []:
        seen = policy.visible_fields("customers_page", cells.holding("customer", row["group"]))
        row["masked"] = [c for c in actions if c not in seen]
    return render_template("console/customers.html", partners=partners, partner=partner,
                           viewers=viewers, viewer=viewer, sort=sort, hide_inactive=hide,
                           sorts=[w + c for c in page.SORTS for w in ("", "-")], sort_names=_sort_names(),
                           columns=list(actions), actions=actions, rows=rows,
                           next_cursor=next_cursor, error=error)


def _explain(exc: Exception) -> str:
    """A refusal as a person reads it, from the one error table (api/error_table.py); what is
    not a refusal (a 503, an unknown error) is raised again for the app's handlers."""
    row = error_table.row_for(exc)
    if row is None or row.status >= 500:
        raise exc
    refusal = error_table.describe(row, exc)
    if refusal.code == "invalid_cursor":
        return "That page link is not valid any more."
    if refusal.status == 403:  # R7.5: a preview is decided, never recorded
        recorded = refusal.details.get("decision_id")
        return f"Refused: {refusal.message} " + (f"(decision {recorded})" if recorded else "(preview, not recorded)")
    return f"Refused: {refusal.message}"


# Manage Users, its forms, Who has access and Activity register on bp too (imported last: they import bp).
from authz_service.api import (  # noqa: E402, F401
    console_access,
    console_activity,
    console_keys,
    console_links,
    console_log,
    console_mail,
    console_preview,
    console_requests,
    console_why,
)
