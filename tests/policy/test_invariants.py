"""Invariants (R9.5, R9.6): each shipped invariant is broken by one scratch policy, which is refused
with the invariant, its counterexample and the rule line that decided; the service refuses such a
policy at start and on reload; a malformed invariant is refused with its line."""

import shutil

import pytest

from authz_service import policy
from authz_service.app import create_app
from authz_service.decide.gather import gather
from authz_service.policy import PolicyError, invariants
from authz_service.policy.facts import SESSIONS, is_possible
from authz_service.store import directory
from tests.support.policy_scratch import (
    POLICIES,
    build,
    line_of,
    policy_files,
    replaced,
    scratch_app,
)

FILES = policy_files()
MODEL_EFFECT = line_of(FILES, "model.conf", "e =")


def add(files, name, line):
    return {**files, name: files[name] + line + "\n"}


# invariant -> (the scratch policy breaking it, its counterexample, the line that decided)
BREAKERS = {
    "support-sees-no-money": (
        lambda f: add(f, "account.csv", "p, support, *, invoice: view, allow"),
        "kind=partner relation=home home=support link=- session=none action=invoice.view: allowed",
        lambda f: line_of(f, "account.csv", "p, support, *, invoice")),
    "support-changes-no-cost": (
        lambda f: replaced(f, "services.csv", "p, support, *, port: view edit", "p, support, *, port: view create edit"),
        "kind=partner relation=home home=support link=- session=none action=port.create: allowed",
        lambda f: line_of(f, "services.csv", "p, support, *, port:")),
    "support-sees-names-only": (
        lambda f: replaced(f, "account.csv", "p, support, *, account: view,", "p, support, *, account: view view_summary,"),
        "kind=partner relation=home home=support link=- session=none action=account.view_summary: allowed",
        lambda f: line_of(f, "account.csv", "p, support, *, account:")),
    "read-only-changes-nothing": (
        lambda f: replaced(f, "services.csv", "p, read_only, *, port: view,", "p, read_only, *, port: view edit,"),
        "kind=partner relation=home home=read_only link=- session=none action=port.edit: allowed",
        lambda f: line_of(f, "services.csv", "p, read_only, *, port:")),
    "read-only-sees-everything": (
        lambda f: replaced(f, "services.csv", "p, read_only, *, history: view, allow\n", ""),
        "kind=partner relation=home home=read_only link=- session=none action=history.view: denied",
        lambda f: MODEL_EFFECT),
    "admin-alone-manages": (
        lambda f: add(f, "account.csv", "p, regular, *, contact: manage, allow"),
        "kind=partner relation=home home=regular link=- session=none action=contact.manage: allowed",
        lambda f: line_of(f, "account.csv", "p, regular, *, contact")),
    "only-partner-admins-manage-grants": (
        lambda f: add(f, "partner.csv", "p, admin, customer, grant: manage, allow"),
        "kind=customer relation=home home=admin link=- session=none action=grant.manage: allowed",
        lambda f: line_of(f, "partner.csv", "p, admin, customer, grant")),
    "only-partner-non-admins-request-access": (
        lambda f: add(f, "partner.csv", "p, admin, partner, grant: request, allow"),
        "kind=partner relation=home home=admin link=- session=none action=grant.request: allowed",
        lambda f: line_of(f, "partner.csv", "p, admin, partner, grant: request")),
    "only-partner-admins-decide-requests": (
        lambda f: add(f, "partner.csv", "p, regular, customer, grant: request, allow"),
        "kind=customer relation=home home=regular link=- session=none action=grant.request: allowed",
        lambda f: line_of(f, "partner.csv", "p, regular, customer, grant")),
    "partner-admins-act-as-admin": (
        lambda f: replaced(f, "scoping.csv", "g, owner/admin/*/*, admin\n", ""),
        "kind=customer relation=owner home=admin link=admin session=none action=port.view: denied, holding -",
        lambda f: MODEL_EFFECT),
    "no-link-no-access": (
        lambda f: add(f, "scoping.csv", "g, owner/regular/-/*, support"),
        "kind=customer relation=owner home=regular link=- session=none action=port.view: allowed, holding support",
        lambda f: line_of(f, "scoping.csv", "g, owner/regular/-/*")),
    "home-group-at-home": (
        lambda f: replaced(f, "scoping.csv", "g, home/support/*/*, support", "g, home/support/*/*, read_only"),
        "kind=partner relation=home home=support link=- session=none action=port.view: allowed, holding read_only",
        lambda f: line_of(f, "scoping.csv", "g, home/support/*/*")),
    "nothing-held-without-relation": (
        lambda f: add(f, "scoping.csv", "g, none/read_only/*/*, read_only"),
        "kind=partner relation=none home=read_only link=- session=none action=port.view: allowed, holding read_only",
        lambda f: line_of(f, "scoping.csv", "g, none/read_only/*/*")),
    "nothing-crosses-partners": (
        lambda f: add(f, "scoping.csv", "g, none/regular/*/*, regular"),
        "kind=partner relation=none home=regular link=- session=none action=port.view: allowed",
        lambda f: line_of(f, "services.csv", "p, regular, *, port:")),
    "session-bound-elsewhere-denies": (
        lambda f: replaced(f, "scoping.csv", "p, session_elsewhere, *, *, deny", ""),
        "kind=partner relation=home home=admin link=- session=elsewhere action=port.view: allowed",
        lambda f: line_of(f, "services.csv", "p, admin, *, port:")),
}


def test_every_shipped_invariant_has_a_breaker_and_holds_on_the_policy():
    shipped = policy.load(POLICIES)
    assert sorted(i.name for i in shipped.invariants) == sorted(BREAKERS)
    assert invariants.check(shipped) == []


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_a_policy_breaking_an_invariant_is_refused_with_a_counterexample(name):
    breaker, cell, decided = BREAKERS[name]
    files = breaker(FILES)
    with pytest.raises(PolicyError) as refused:
        build(files)
    mine = [p for p in refused.value.problems if f"invariant {name!r}" in p[2]]
    assert len(mine) == 1, refused.value.problems
    file, line, message = mine[0]
    assert f"{file}:{line}" == line_of(FILES, "invariants.toml", f'name = "{name}"')
    assert f"counterexample {cell}" in message
    assert message.endswith(f"decided by {decided(files)}")


def test_without_the_invariants_file_the_same_policy_loads():
    """The file is optional (an old revision, a scratch policy); its invariants are what it states."""
    files = {n: t for n, t in BREAKERS["support-sees-no-money"][0](FILES).items() if n != "invariants.toml"}
    assert build(files).invariants == []


BAD_FILES = {
    "unknown selector": ('when = { held = "support", action = ["billing.*", "invoice.*"] }',
                         'when = { group = "support" }', "unknown selector 'group'"),
    "a typo matches nothing": ('when = { held = "support", action = ["billing.*", "invoice.*"] }',
                               'when = { held = "suport" }', "held pattern 'suport' matches no known value"),
    "bad claim": ('never = "allow"', 'never = "permit"', "the claim is `allow` or `hold"),
    "both forms": ('never = "allow"', 'never = "allow"\nalways = "allow"', "exactly one of never or always"),
    "unknown key": ('never = "allow"', 'never = "allow"\nwhy = "x"', "unknown keys ['why']"),
    "selects nothing possible": ('when = { held = "support", action = ["billing.*", "invoice.*"] }',
                                 'when = { kind = "partner", relation = "owner" }', "selects no cell the service"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_malformed_invariant_is_refused_with_its_line(case):
    old, new, why = BAD_FILES[case]
    files = replaced(FILES, "invariants.toml", old, new)
    with pytest.raises(PolicyError) as refused:
        build(files)
    where = line_of(FILES, "invariants.toml", 'name = "support-sees-no-money"')
    assert [(f"{f}:{n}", why in m) for f, n, m in refused.value.problems] == [(where, True)]


def test_the_service_refuses_a_broken_invariant_at_start(tmp_path):
    shutil.copytree(POLICIES, tmp_path / "policies")
    broken = BREAKERS["support-sees-no-money"][0](FILES)["account.csv"]
    (tmp_path / "policies" / "account.csv").write_text(broken)
    with pytest.raises(PolicyError, match="support-sees-no-money"):
        create_app({"database_url": f"sqlite:///{tmp_path}/a.db", "bootstrap_key": "invariants-bootstrap-key-0123456789",
                    "policy_dir": str(tmp_path / "policies"), "policy_poll_seconds": 0}, migrate=True)


def test_the_service_refuses_a_broken_invariant_on_reload(tmp_path):
    with scratch_app(tmp_path) as (app, policies):
        client, watch = app.test_client(), app.extensions["authz"].watch
        old = client.get("/readyz").json["policy_version"]
        (policies / "scoping.csv").write_text(BREAKERS["nothing-crosses-partners"][0](FILES)["scoping.csv"])
        assert watch.check_once() is False
        ready = client.get("/readyz").json
        assert ready["policy_version"] == old
        assert "invariant 'nothing-crosses-partners'" in ready["policy_reload_error"]
        assert "counterexample kind=partner relation=none" in ready["policy_reload_error"]


def test_gather_only_produces_possible_facts(tmp_path):
    """The space invariants range over (facts.is_possible) holds every fact gather can produce."""
    with scratch_app(tmp_path):
        accounts = [a["id"] for a in directory.list_accounts()] + ["no-such-account"]
        users = [u["email"] for a in accounts[:-1] for u in directory.users_of(a)] + ["nobody@example.com"]
        seen = {gather(u, a).facts for u in users for a in accounts}
    assert seen and all(is_possible(f) for f in seen), [f for f in seen if not is_possible(f)]
    assert {f.relation for f in seen} == {"home", "owner", "none"} and SESSIONS[0] == "none"
