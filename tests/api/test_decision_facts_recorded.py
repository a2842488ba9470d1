"""Every path that records a decision records the facts it was decided from and the version of
the policy that decided (R9.7; docs/decisions/033-decision-facts-and-replay.md): /v1/authorize
on the fast path and on the Flask route, batches, AuthZEN evaluation(s) on both paths, the
portal's reads (links, activity). Deciding each entry's recorded facts again gives its outcome."""

from werkzeug.test import Client

from authz_service.decide.authorize import NOT_DONE
from authz_service.decide.gather import gather, load_session
from authz_service.policy.facts import from_text
from authz_service.store.models import Decision
from tests.support.auth import bearer
from tests.support.authzen import evaluation, post
from tests.support.reads import synced_store

CALLS = [
    ("rita@acme.example", "port.create", "initech"), ("sam@acme.example", "port.create", "initech"),
    ("ian@initech.example", "billing.view", "initech"), ("ada@acme.example", "grant.manage", "acme"),
    ("nobody@nowhere.example", "port.view", "umbrella"), ("rita@acme.example", "port.view", "no-such"),
]


def _decide_on_every_path(app) -> None:
    fast, flask_route = app.test_client(), Client(app.wsgi_app.flask_app)
    for client in (fast, flask_route):
        for user, action, account in CALLS:
            body = {"user": user, "action": action, "account": account}
            assert client.post("/v1/authorize", json=body, headers=bearer()).status_code == 200
            with_session = {**body, "session": "no-such-session"}  # R6.2: a session bound elsewhere
            assert client.post("/v1/authorize", json=with_session, headers=bearer()).status_code == 200
            assert post(client, "evaluation", evaluation(user, action, account)).status_code == 200
    checks = [{"action": a, "account": acc} for _, a, acc in CALLS]
    assert fast.post("/v1/authorize/batch", json={"user": "rita@acme.example", "checks": checks},
                     headers=bearer()).status_code == 200
    many = {"evaluations": [evaluation(u, a, acc) for u, a, acc in CALLS]}
    assert post(fast, "evaluations", many).status_code == 200
    assert fast.get("/v1/customers/initech/links?user=ada@acme.example", headers=bearer()).status_code == 200
    assert fast.get("/v1/accounts/initech/activity?user=ian@initech.example", headers=bearer()).status_code == 200


def test_every_decision_path_records_its_facts_and_policy_version(app):
    """R9.7: each policy decision's entry holds gather's facts and the policy's version, and the
    policy decides those facts as recorded; entries the policy did not decide hold none."""
    _decide_on_every_path(app)
    policy = app.extensions["authz"].policy
    with synced_store():
        rows = list(Decision.select().order_by(Decision.seq))
        decided = [r for r in rows if not r.rule.startswith(("key scope", "fact:")) and r.rule != NOT_DONE]
        assert len(decided) == 3 * len(CALLS) * 2 + 2 * len(CALLS) + 2
        for row in decided:
            facts = from_text(row.facts)
            session = row.session_id
            expected = gather(row.user_email, row.account_id, load_session(session), session is not None)
            assert facts == expected.facts, (row.action, row.user_email, row.account_id)
            assert row.policy_version == policy.version
            assert policy.decide(facts, row.action).allowed == row.allowed
        sessions = {from_text(r.facts).session for r in decided}
        assert {"none", "elsewhere"} <= sessions
        for row in rows:
            if row not in decided:
                assert row.facts is None and row.policy_version is None
