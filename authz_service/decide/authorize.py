"""authorize, batch and the accounts a user may act on: facts in, the policy's verdict out.

Longer than 200 lines: every path that decides and records (R7.1) in one module: one path decides.
"""

import logging
from contextlib import contextmanager

from authz_service import cursors, metrics
from authz_service.decide.gather import Gathered, gather, load_session
from authz_service.log import chain, values
from authz_service.policy import NONE, Facts, Policy
from authz_service.policy.facts import as_text
from authz_service.store import accounts as store_accounts
from authz_service.store import decisions
from authz_service.store.models import utcnow

log = logging.getLogger("authz.decisions")
NOT_DONE = "outcome:not_done"  # the rule of an entry saying an allowed change was not carried out


class UnknownAction(Exception):
    """The action is not one of the policy's resource.verb names (docs/api.md: 400)."""


class TooLong(Exception):
    """A user, account or session longer than any stored one, which the log could not record (docs/api.md: 422)."""

    def __init__(self, field: str, limit: int, message: str | None = None):
        super().__init__(message or f"{field} is longer than {limit} characters, which no {field} is")
        self.field, self.limit = field, limit


class Unstorable(TooLong):
    """A user, account or session with NUL or a lone surrogate: no store keeps it as sent,
    and a decision is never recorded about a value other than the one asked (docs/api.md: 422)."""

    def __init__(self, field: str, limit: int):
        super().__init__(field, limit, f"{field} holds a NUL or a lone surrogate, which no {field} does")


def _recordable(user: str, accounts=(), session: str | None = None, fit: set | None = None) -> None:
    """TooLong unless every value fits the log's columns (store.decisions.RECORDABLE). `fit`: the
    (user, session) pairs a run of requests (decide_each) has found to fit, not checked again."""
    limits = decisions.RECORDABLE
    known = fit is not None and (user, session) in fit
    named = [] if known else [("user", user.lower())]  # recorded lowercased, which can lengthen it
    named += [("account", a) for a in accounts if a is not None]
    named += [("session", session)] if session is not None and not known else []
    for field, value in named:  # R7.4: what cannot be stored as sent is refused before deciding
        if len(value) > limits[field]:
            raise TooLong(field, limits[field])
        if not values.faithful(value):
            raise Unstorable(field, limits[field])
    if fit is not None:
        fit.add((user, session))


class Denied(Exception):
    """The policy refused a check the service makes for a call (docs/api.md: 403 + decision_id)."""

    def __init__(self, result: dict):
        super().__init__(result["reason"])
        self.result = result


def require(policy: Policy, user: str, action: str, account: str | None,
            resource: dict | None = None, session: str | None = None,
            caller: str | None = None) -> dict:
    """Decide and record; raise Denied unless allowed (links, invites, services, logs)."""
    result = authorize(policy, user, action, account, resource, session, caller)
    if not result["allowed"]:
        raise Denied(result)
    return result


def authorize(policy: Policy, user: str, action: str, account: str | None = None,
              resource: dict | None = None, session: str | None = None,
              caller: str | None = None) -> dict:
    """One decision, recorded before it is returned (R7.1)."""
    return authorize_many(policy, user, [{"action": action, "account": account,
                                          "resource": resource}], session, caller)[0]


def authorize_many(policy: Policy, user: str, checks: list[dict], session: str | None = None,
                   caller: str | None = None) -> list[dict]:
    """Decisions for several checks by one user, all recorded in one commit."""
    return _decide_and_record(policy, user, checks, session, caller)[0]


def decide_each(policy: Policy, requests: list, caller: str | None = None, stop=None) -> list:
    """Each request {"user", "action", "account", "resource", "session"} decided in order exactly as
    `authorize` decides it, all recorded in one commit before any is returned (R7.1): AuthZEN's
    evaluations, whose items may name different users and sessions.

    A request that is not a dict (the caller's own refusal) stays in its place, as does the
    UnknownAction or TooLong of one that cannot be decided; neither is recorded. `stop(outcome)`
    true ends the run after that outcome (AuthZEN's short-circuit semantics). The run is decided
    at one time, as `authorize_many`'s checks are: its entries share it (R7.1).
    """
    outcomes, decided, entries, active, now = [], [], [], [], utcnow()
    read: dict = {}  # one read of the session and of the facts per user, account and session in the run
    fit: set = set()  # the (user, session) pairs found to fit the log's columns (_recordable)
    for request in requests:
        outcome = request
        if isinstance(request, dict):
            try:  # a request names "action", "account" and "resource" as a check does
                outcome, entry, own = _decide_one(policy, request["user"], request, request.get("session"),
                                                  caller, read, fit, now)
            except (UnknownAction, TooLong) as exc:
                outcome = exc
            else:
                decided.append(outcome)
                entries.append(entry)
                if own is not None:
                    active.append(own)
        outcomes.append(outcome)
        if stop is not None and stop(outcome):
            break
    for result, decision_id in zip(decided, _record(entries, active, now) if entries else [], strict=True):
        result["decision_id"] = decision_id
    metrics.observe_decisions([(e["action"], e["allowed"]) for e in entries])
    return outcomes


def _decide_and_record(policy: Policy, user: str, checks: list[dict], session, caller):
    """(results with their decision ids, the recorded entries)."""
    results, entries, active, now = _decide(policy, user, checks, session, caller)
    for result, decision_id in zip(results, _record(entries, active, now), strict=True):
        result["decision_id"] = decision_id
    metrics.observe_decisions([(e["action"], e["allowed"]) for e in entries])
    return results, entries


@contextmanager
def change(policy: Policy, user: str, action: str, account: str | None, resource: dict | None = None,
           session: str | None = None, caller: str | None = None):
    """`require` for a call that then changes something. If the change fails after its allow was
    recorded, a second entry for the same action says it was not done, so the log never keeps a
    bare allow for a change that did not happen (R7.1; docs/decisions/016-hostile-input.md)."""
    check = {"action": action, "account": account, "resource": resource}
    results, entries = _decide_and_record(policy, user, [check], session, caller)
    if not results[0]["allowed"]:
        raise Denied(results[0])
    try:
        yield results[0]
    except BaseException as exc:
        _record_not_done(entries[0], results[0]["decision_id"], exc)
        raise


def _record_not_done(entry: dict, decision_id: str, exc: BaseException) -> None:
    """The outcome entry for an allowed change that failed; a log that cannot take it is logged."""
    why = getattr(exc, "code", None) or type(exc).__name__
    # Not a decision of the policy (its outcome is not the verdict for its facts): no R9.7 facts,
    # so a replay counts it as not replayable rather than as a decision that would flip.
    outcome = {k: v for k, v in entry.items() if k not in ("id", "facts", "policy_version")}
    outcome.update(at=utcnow(), allowed=False, rule=NOT_DONE,
                   reason=f"not done: the change allowed by decision {decision_id} failed ({why})")
    try:
        _record([outcome], [], outcome["at"])
    except Exception:
        log.exception("could not record that decision %s was not carried out", decision_id)


def preview(policy: Policy, user: str, action: str, account: str | None) -> dict:
    """What `authorize` would answer, neither recorded nor counted as the user's activity (R7.5):
    the console's "see as" and Manage Users opened as someone. Raise Denied unless allowed."""
    result = _decide(policy, user, [{"action": action, "account": account}], None, None)[0][0]
    result["decision_id"] = None
    if not result["allowed"]:
        raise Denied(result)
    return result


def record_operator(operator: str, scope: str, action: str, account: str, resource: dict, caller: str,
                    reason: str) -> str:
    """Record a change made on a key's own authority (a console key with `manage`), allowed by the
    key's scope rather than by a user's group: named as the key, never as a user (R7.5)."""
    now = utcnow()
    entry = {"at": now, "user_email": operator[: decisions.RECORDABLE["user"]], "account_id": account,
             "log_account": account, "action": action, "resource_type": resource.get("type"),
             "resource_id": resource.get("id"), "allowed": True, "group": None,
             "rule": f"key scope: {scope}", "reason": reason, "session_id": None, "caller": caller,
             "on_behalf_of_partner": None}
    return _record([entry], [], now)[0]


def _decide(policy: Policy, user: str, checks: list[dict], session: str | None, caller: str | None):
    """(results, entries to record, accounts active per R5.6, now) for one user's checks."""
    for check in checks:
        if not policy.is_action(check["action"]):
            raise UnknownAction(check["action"])
    _recordable(user, [check.get("account") for check in checks], session)
    read: dict = {}
    now = utcnow()
    results, entries, active = [], [], []
    for check in checks:
        result, entry, own = _decided(policy, user, check, session, caller, read, now)
        results.append(result)
        entries.append(entry)
        if own is not None:
            active.append(own)
    return results, entries, active, now


def _decide_one(policy: Policy, user: str, check, session: str | None, caller: str | None, read: dict,
                fit: set, now):
    """_decided for one check of a run (decide_each), its action and values checked first (`fit`:
    _recordable's pairs found to fit in the run)."""
    if not policy.is_action(check["action"]):
        raise UnknownAction(check["action"])
    _recordable(user, (check.get("account"),), session, fit)
    return _decided(policy, user, check, session, caller, read, now)


def _decided(policy: Policy, user: str, check, session: str | None, caller: str | None, read: dict, now):
    """(result, entry to record, the account active per R5.6 or None) for one check whose action
    and values are known good; `read` keeps the session and facts gathered in a run, each read once."""
    named = ("session", session)
    bound = read[named] if named in read else read.setdefault(named, load_session(session))
    account = check.get("account")
    if account is None and bound is not None:
        account = bound["customer_id"]  # R6.2: the session's customer by default
    key = (user.lower(), account, session)
    got = read.get(key) or read.setdefault(key, gather(user, account, bound, session is not None, now))
    # R5.6: a customer's own user, in its own account
    own = got.account_id if got.home_kind == "customer" and got.home_account == got.account_id else None
    verdict = policy.decide(got.facts, check["action"])
    return ({"allowed": verdict.allowed, "group": verdict.group, "reason": verdict.reason, "rule": verdict.rule},
            _entry(user, check, got, verdict, session, caller, now, policy.version), own)


def _record(entries: list[dict], active: list[str], now) -> list[str]:
    """Append the entries; with R5.6 activity, in one transaction with the customers' figures."""
    # The activity update runs inside the log's own (group) commit: no second commit.
    return chain.append(entries, activity=(active, now) if active else None)


def _entry(user, check, got: Gathered, verdict, session, caller, now, version: str) -> dict:
    """The entry of one decision (R7.1), with the facts it was decided from and the version of
    the policy that decided (R9.7), so it can be re-decided later (decide/replay.py)."""
    resource = check.get("resource") or {}
    return {
        "at": now, "user_email": user.lower(), "account_id": got.account_id,
        "log_account": got.account_id if got.facts.kind != NONE else None,  # R7.2
        "action": check["action"], "resource_type": resource.get("type"),
        "resource_id": resource.get("id"), "allowed": verdict.allowed, "group": verdict.group,
        "rule": verdict.rule, "reason": verdict.reason, "session_id": session, "caller": caller,
        "on_behalf_of_partner": got.acting_partner, "facts": as_text(got.facts), "policy_version": version,
    }


def accounts(policy: Policy, user: str, action: str, limit: int, cursor: str | None):
    """Every account where `authorize` would allow the action, by one database query.

    The policy is asked which relations allow the action for this user's home
    group; the store turns that into one query over accounts and links.
    """
    if not policy.is_action(action):
        raise UnknownAction(action)
    _recordable(user)
    got = gather(user, None)
    if got.home_account is None or got.home_kind is None:  # unknown user (a home has a kind)
        return [], None
    home_group = got.facts.home_group
    home = policy.decide(Facts(got.home_kind, "home", home_group, NONE, "none"), action).allowed

    def allows(kind: str, relation: str, link: str = NONE) -> bool:
        return policy.decide(Facts(kind, relation, home_group, link, "none"), action).allowed

    link_groups = [g for g in policy.vocab.groups if allows("customer", "owner", g)]
    query = store_accounts.Reach(
        email=user.lower(), home_account=got.home_account, include_home=home,
        all_owned=allows("customer", "owner"), owned_link_groups=link_groups,
        other_kinds=[k for k in policy.vocab.account_kinds if allows(k, "none")],
    )
    after = cursors.decode("accounts", cursor)
    if after is not None and not isinstance(after, str):
        raise cursors.InvalidCursor("the cursor is not one this service gave for this list")
    items, has_more = store_accounts.reachable(query, limit, after)
    return items, (cursors.encode("accounts", items[-1]) if has_more else None)
