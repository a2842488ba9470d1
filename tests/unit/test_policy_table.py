"""The decision table derived at load agrees with casbin on every combination (R9.1)."""

import pytest

from authz_service import policy
from authz_service.policy.table import all_facts


@pytest.fixture(scope="module")
def loaded():
    return policy.load("policies")


@pytest.mark.slow
def test_table_and_casbin_agree_on_every_combination(loaded):
    """Every (facts, action) the service can meet: same allow/deny and same deciding rule."""
    checked = 0
    for facts in all_facts(loaded.vocab):
        for action in loaded.vocab.actions:
            allowed, rule = loaded.engine.enforce(facts, action)
            verdict = loaded.decide(facts, action)
            assert verdict.allowed == allowed, (facts, action)
            assert verdict.rule == (rule.location if rule else loaded.engine.default_deny)
            checked += 1
    assert checked == len(loaded.table)


def test_group_is_the_one_scoping_gives(loaded):
    """The reported group is the group casbin's role manager links the facts to (R4)."""
    for facts in all_facts(loaded.vocab):
        held = [g for g in loaded.vocab.groups if loaded.engine.holds(facts.who, g)]
        assert loaded.decide(facts, "account.view").group == (held[0] if held else None)
        assert len(held) <= 1


def test_every_denial_names_a_rule_and_a_reason(loaded):
    """A denial says which line decided it and why, for a person (docs/api.md authorize)."""
    for verdict in loaded.table.values():
        assert verdict.rule.startswith("policies/")
        assert ":" in verdict.rule and verdict.reason


def test_deny_by_default_for_a_group_without_a_rule(loaded):
    """R3: anything not listed is denied; support has no invoice rule."""
    facts = policy.Facts("customer", "home", "support", "-", "none")
    verdict = loaded.decide(facts, "invoice.view")
    assert not verdict.allowed
    assert verdict.rule == "policies/model.conf:30"
    assert "deny by default" in verdict.reason


def test_session_elsewhere_beats_any_allow(loaded):
    """R6.2: a session bound elsewhere is refused even for an admin at home."""
    facts = policy.Facts("customer", "home", "admin", "-", "elsewhere")
    verdict = loaded.decide(facts, "port.view")
    assert not verdict.allowed
    assert verdict.group == "admin"
    assert verdict.rule.startswith("policies/scoping.csv:")
