"""AuthZEN evaluation and POST /v1/authorize are one decision path (R7.1, R9.1), as a property.

Over the demo data changed by generated promotions, demotions, links and revokes (R4.1-R4.9,
made through the API), for generated users (known, case-varied, new, unknown), every R3 action
(and unknown ones), accounts (unknown included), targets and view sessions (R6: none, bound,
unbound, another user's, unknown), POST /access/v1/evaluation gives the decision, group, reason
and rule that POST /v1/authorize gives, and records the same entry; what /v1 refuses as an unknown
action is an unrecorded deny (docs/decisions/028-authzen.md).
"""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service import store
from authz_service.log import chain
from authz_service.store import sessions
from authz_service.store.fixtures import read
from authz_service.store.models import Decision, utcnow
from tests.support.auth import bearer
from tests.support.authzen import post

DATA = read()
ACTS = {"acme": "ada@acme.example", "globex": "gina@globex.example"}  # each partner's admin, never changed
NEW = ["new0@acme.example", "new1@acme.example", "new2@globex.example"]
MOVABLE = sorted({u for p in DATA["partners"].values() for u in p["users"]} - set(ACTS.values())) + NEW
CUSTOMERS = {c: v["partner"] for c, v in DATA["customers"].items()}
KNOWN = sorted({u for s in ("partners", "customers") for a in DATA[s].values() for u in a["users"]})
USERS = KNOWN + NEW + ["RITA@acme.example", "Sam@Acme.Example", "nobody@acme.example"]
ACCOUNTS = sorted([*DATA["partners"], *CUSTOMERS]) + ["nowhere"]
GROUPS = ["admin", "regular", "read_only", "support"]
SAME = ("user", "account", "action", "resource", "allowed", "group", "rule", "reason", "session",
        "caller", "on_behalf_of_partner")
sessions_made = itertools.count()

change = st.one_of(
    st.tuples(st.just("group"), st.sampled_from(MOVABLE), st.sampled_from(GROUPS)),  # promote, demote, add
    st.tuples(st.just("link"), st.sampled_from(MOVABLE), st.sampled_from(sorted(CUSTOMERS)),
              st.sampled_from(GROUPS)),
    st.tuples(st.just("revoke"), st.sampled_from(MOVABLE), st.sampled_from(sorted(CUSTOMERS))))
# how the request names a view session: none, the user's own (bound to an account or not),
# another user's bound one, or an id that names nothing
session = st.one_of(st.none(), st.tuples(st.sampled_from(["own", "other"]), st.sampled_from(ACCOUNTS + [None])),
                    st.just(("unknown", None)))


@pytest.fixture
def actions(app) -> list[str]:
    return sorted(app.extensions["authz"].policy.vocab.actions) + ["port.teleport", "read"]


def apply(client, kind, email, *rest) -> None:
    """One directory change through the API; what the contract refuses (409, 404) changes nothing."""
    home = "globex" if email.endswith("globex.example") else "acme"
    if kind == "group":
        response = client.put(f"/v1/partners/{home}/users/{email}", json={"group": rest[0]}, headers=bearer())
    elif kind == "link":
        customer, group = rest
        response = client.put(f"/v1/customers/{customer}/links/{email}", headers=bearer(),
                              json={"user": ACTS[CUSTOMERS[customer]], "group": group})
    else:
        customer = rest[0]
        response = client.delete(f"/v1/customers/{customer}/links/{email}", headers=bearer(),
                                 query_string={"user": ACTS[CUSTOMERS[customer]]})
    assert response.status_code in (200, 201, 204, 404, 409), response.json


def session_for(user: str, how) -> str | None:
    """A view session as the request names it (R6.1: bound to one account, or none yet)."""
    if how is None:
        return None
    whose, bound = how
    sid = f"prop-{next(sessions_made)}"
    if whose == "unknown":
        return sid
    owner = user.lower() if whose == "own" else "rita@acme.example"
    with store.connection():
        sessions.create(sid, owner, utcnow().replace(year=utcnow().year + 1))
        if bound is not None:
            sessions.bind(sid, bound)
    return sid


def entries() -> int:
    """How many decisions are stored, once every one recorded so far is (the spool, R7.4)."""
    chain.sync()
    with store.connection():
        return Decision.select().count()


def newest(client, count: int) -> list[dict]:
    """The `count` newest recorded decisions, newest first."""
    page = client.get("/v1/decisions", query_string={"limit": count}, headers=bearer())
    assert page.status_code == 200, page.json
    return page.json["items"]


def both(client, user, action, account, sid, target) -> tuple:
    """(the /v1/authorize answer, the AuthZEN evaluation answer) for one question."""
    v1 = {"user": user, "action": action, "account": account,
          **({"session": sid} if sid else {}), **({"resource": target} if target else {})}
    resource = {"type": "account", "id": account, **({"properties": {"target": target}} if target else {})}
    body = {"subject": {"type": "user", "id": user}, "action": {"name": action}, "resource": resource,
            **({"context": {"session": sid}} if sid else {})}
    ours = client.post("/v1/authorize", json=v1, headers=bearer())
    theirs = post(client, "evaluation", body)
    assert theirs.status_code == 200, theirs.json
    return ours, theirs.json


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(change, max_size=5),
       questions=st.lists(st.tuples(st.sampled_from(USERS), st.integers(0, 10_000), st.sampled_from(ACCOUNTS),
                                    session, st.booleans()), min_size=1, max_size=6))
def test_evaluation_is_authorize(client, actions, changes, questions):
    """The same decision and the same recorded entry, for every question, after every change."""
    for kind, *rest in changes:
        apply(client, kind, *rest)
    for user, pick, account, how, with_target in questions:
        action = actions[pick % len(actions)]
        target = {"type": "port", "id": f"port-{pick}"} if with_target else None
        sid = session_for(user, how)
        before = entries()
        ours, theirs = both(client, user, action, account, sid, target)
        if ours.status_code == 400:  # an unknown action: nothing decided on either path
            assert ours.json["error"]["code"] == "unknown_action", ours.json
            assert theirs == {"decision": False, "context": {"error": {
                "code": "unknown_action", "message": f"unknown action {action!r}"}}}
            assert entries() == before
            continue
        assert ours.status_code == 200, ours.json
        v1 = ours.json
        assert theirs["decision"] is v1["allowed"], (user, action, account, how)
        assert theirs["context"].get("group") == v1["group"]
        assert {k: theirs["context"][k] for k in ("reason", "rule")} == {k: v1[k] for k in ("reason", "rule")}
        assert entries() == before + 2
        second, first = newest(client, 2)
        assert (first["decision_id"], second["decision_id"]) == (v1["decision_id"],
                                                                 theirs["context"]["decision_id"])
        assert {k: second[k] for k in SAME} == {k: first[k] for k in SAME}
        assert first["session"] == sid and first["resource"] == target
