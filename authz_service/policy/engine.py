"""pycasbin, fed from the rule files: the only module that imports casbin (docs/architecture.md)."""

import casbin
from casbin import persist
from casbin.model import Model
from casbin.persist.adapter import Adapter

from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import Facts, action_in, who_match
from authz_service.policy.files import Rule
from authz_service.policy.snapshot import Snapshot

MODEL = "model.conf"


class _RulesAdapter(Adapter):
    """Hands casbin the rules read (with their lines) from every policies/*.csv."""

    def __init__(self, rules: list[Rule]):
        self._rules = rules

    def load_policy(self, model):
        for rule in self._rules:
            persist.load_policy_line(", ".join((rule.ptype, *rule.fields)), model)


class Engine:
    """A casbin enforcer over model.conf and the rule files, with `who` glob matching."""

    def __init__(self, snap: Snapshot, rules: list[Rule]):
        text = snap.text(MODEL)
        if text is None:
            raise PolicyError([(f"{snap.prefix}/{MODEL}", 0, "missing")])
        try:
            model = Model()
            model.load_model_from_text(text)
            self._enforcer = casbin.Enforcer(model, _RulesAdapter(rules))
            self._enforcer.add_function("actionIn", action_in)
            self._enforcer.add_named_matching_func("g", who_match)
            self._enforcer.build_role_links()
            self._enforcer.enforce("none/-/-/none", "-", "account.view")
        except PolicyError:
            raise
        except Exception as exc:  # casbin raises plain exceptions on a bad model
            raise PolicyError([(f"{snap.prefix}/{MODEL}", 0, f"invalid model: {exc}")]) from None
        self._by_fields = {(r.ptype, r.fields): r for r in rules}
        self.default_deny = _effect_location(snap.prefix, text)

    def enforce(self, facts: Facts, action: str) -> tuple[bool, Rule | None]:
        """Raw casbin: the decision and the rule it names (None: deny by default)."""
        allowed, explain = self._enforcer.enforce_ex(facts.who, facts.kind, action)
        rule = self._by_fields.get(("p", tuple(explain))) if explain else None
        return allowed, rule

    def enforce_bool(self, facts: Facts, action: str) -> bool:
        """Raw casbin, the decision only (what a plain casbin user would call)."""
        return self._enforcer.enforce(facts.who, facts.kind, action)

    def holds(self, who: str, role: str) -> bool:
        """True when scoping.csv gives `who` the group or condition `role`."""
        return self._enforcer.get_role_manager().has_link(who, role)

    def scoping_rule(self, who: str, role: str) -> Rule | None:
        """The g line that gives `who` the role (for the facts a reviewer sees)."""
        for (ptype, fields), rule in self._by_fields.items():
            if ptype == "g" and fields[1] == role and who_match(who, fields[0]):
                return rule
        return None


def _effect_location(prefix: str, model_text: str) -> str:
    """`policies/model.conf:N`, the line saying deny is the default."""
    for number, text in enumerate(model_text.splitlines(), 1):
        if text.strip().startswith("e ="):
            return f"{prefix}/{MODEL}:{number}"
    return f"{prefix}/{MODEL}"
