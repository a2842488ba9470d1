"""The console's "Why": a past decision explained by its decision_id (every 403 names one) from
what its entry recorded, or a decision worked out now from a user, an action and an account; a
preview, never recorded (R7.5; decision 036)."""

import re

from flask import render_template, request

from authz_service.api import console_auth as auth
from authz_service.api.base import state
from authz_service.api.console import bp
from authz_service.decide.gather import gather, load_session
from authz_service.log import audit
from authz_service.store import directory

DECISION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _rule_text(policy, location: str | None) -> str | None:
    """The policy line a rule location names, as written (file and line are in the location)."""
    return next((", ".join((r.ptype, *r.fields)) for r in policy.rules if r.location == location), None)


def _recorded(decision_id: str) -> tuple[dict | None, str | None]:
    """(the entry, None) or (None, why there is none): a malformed or unknown id says so."""
    if not DECISION_ID.match(decision_id):
        return None, f"{decision_id[:80]!r} is not a decision id (letters, digits, - and _)."
    found = audit.entry(decision_id)
    if found is None:
        return None, f"No recorded decision has the id {decision_id!r} (or it was archived)."
    return found, None


def _now(policy, form: dict) -> tuple:
    """(result, facts) of deciding the form's question now with the policy in force."""
    bound = load_session(form["session"]) if form["session"] else None
    account = form["account"] or (bound or {}).get("customer_id")
    got = gather(form["user"], account, bound, bool(form["session"]))
    result = policy.decide(got.facts, form["action"])
    facts = [("account kind", got.facts.kind), ("relation of user to account", got.facts.relation),
             ("home account", got.home_account or "-"), ("home group", got.facts.home_group),
             ("link group on this customer", got.facts.link_group), ("session", got.facts.session),
             ("casbin request", f"{got.facts.who}, {got.facts.kind}, {form['action']}")]
    return result, facts


@bp.get("/why", endpoint="why")
@auth.signed_in
def why():
    """By decision_id: the recorded entry (who, what, where, outcome, group, rule, reason, the
    recorded facts when the entry has them). Else by user, action, account: decided now."""
    policy = state().policy
    form = {k: request.args.get(k, "").strip() for k in ("decision_id", "user", "action", "account", "session")}
    entry, error, result, facts = None, None, None, []
    if form["decision_id"]:
        entry, error = _recorded(form["decision_id"])
    elif form["user"] and form["action"]:
        if policy.is_action(form["action"]):
            result, facts = _now(policy, form)
            if directory.get_user(form["user"].lower()) is None:
                error = f"No user {form['user'][:254]!r} is known: an unknown user is denied everything."
        else:
            error = f"{form['action'][:80]!r} is not an action of the policy (resource.verb, R3)."
    location = entry["rule"] if entry else result.rule if result else None
    return render_template("console/why.html", form=form, actions=policy.vocab.actions, entry=entry,
                           error=error, result=result, facts=facts, rule_text=_rule_text(policy, location))
