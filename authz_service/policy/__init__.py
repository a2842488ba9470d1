"""Load and check policies/, decide from the derived table (R9). Only this package imports casbin."""

from pathlib import Path

from authz_service.policy import (
    fields,
    files,
    invariant_file,
    invariants,
    snapshot,
    tables,
    vocabulary,
)
from authz_service.policy.engine import Engine
from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import NONE, Facts
from authz_service.policy.snapshot import Snapshot
from authz_service.policy.table import Verdict, derive

__all__ = ["Policy", "PolicyError", "Facts", "Verdict", "NONE", "load", "version_of"]


class Policy:
    """A loaded, checked policy: its vocabulary, its casbin engine and its decision table.

    Built from one snapshot's bytes only; its version is the hash of those bytes (R9.6).
    """

    def __init__(self, snap: Snapshot, check_tests: bool = True):
        self.snapshot = snap
        self.dir = snap.root
        self.vocab = vocabulary.load(snap)
        self.rules = files.read_rules(snap)
        files.check_rules(self.rules, self.vocab)
        self.fields = fields.load(snap, self.vocab)
        if check_tests:
            tables.check_coverage(snap, self.vocab)
        self.engine = Engine(snap, self.rules)
        self.table = derive(self.engine, self.vocab)
        self.version = snap.version
        self.invariants = invariant_file.load(snap, self.vocab)
        invariants.prove(self)  # R9.5, R9.6: a broken invariant refuses the policy

    def decide(self, facts: Facts, action: str) -> Verdict:
        """The decision for these facts; facts outside the vocabulary deny, saying which (R9.6)."""
        verdict = self.table.get((*facts, action))
        return verdict if verdict is not None else self._unknown(facts, action)

    def _unknown(self, facts: Facts, action: str) -> Verdict:
        """A user holding a group this policy does not know (removed from it, or set in the database)."""
        known = (*self.vocab.groups, NONE)
        odd = next((g for g in (facts.home_group, facts.link_group) if g not in known), None)
        what = (f"the user holds group {odd!r}, which the policy in force does not know"
                if odd is not None else f"{action!r} on a {facts.kind!r} account is not in the policy")
        return Verdict(False, None, f"{self.snapshot.prefix}/{vocabulary.FILE}",
                       f"refused: {what} (R9.6, deny by default)")

    def is_linkable(self, home_group: str) -> bool:
        """R4.4, R4.9: a partner user can be linked when a link changes the group they hold.

        Read from scoping.csv: a partner admin holds admin in every customer whatever
        their links (R4.1), so a link to them would never be used and is refused.
        """
        unlinked = self.decide(Facts("customer", "owner", home_group, NONE, "none"), "account.view")
        return any(
            self.decide(Facts("customer", "owner", home_group, g, "none"), "account.view").group
            != unlinked.group
            for g in self.vocab.groups
        )

    def visible_fields(self, view: str, facts: Facts) -> frozenset[str]:
        """R5.8: the columns of `view` these facts may see (each column's action is allowed)."""
        return frozenset(column for column, action in self.fields.get(view, {}).items()
                         if self.decide(facts, action).allowed)

    def field_actions(self, view: str) -> dict[str, str]:
        """{column: action} for a view, as policies/fields.toml says."""
        return dict(self.fields.get(view, {}))

    def default_group(self, purpose: str) -> str:
        """The group vocabulary.toml names for `first_user_group` or `new_link_group`."""
        return self.vocab.defaults[purpose]

    def is_action(self, action: str) -> bool:
        """True when the action is one of the vocabulary's resource.verb names."""
        return self.vocab.is_action(action)


_loaded: dict[tuple, Policy] = {}
ATTEMPTS = 5


def load(policy_dir, check_tests: bool = True, settle: float = 0.0) -> Policy:
    """Snapshot, check and derive; a PolicyError names the file and line at fault (R9.2).

    The policy is built from one in-memory snapshot; if the folder changed while
    it was built, it starts over, so the result is exactly what is on disk (R9.6).
    `settle`: wait until no file changed for that long (a deploy writes several).
    Loaded policies are kept by the hash of their bytes, so loading the same
    files twice in one process (tests, several apps) derives the table once.
    """
    root = Path(policy_dir)
    for _ in range(ATTEMPTS):
        snap = snapshot.read_settled(root, settle)
        try:
            built = build(snap, check_tests)
        except PolicyError:
            if snapshot.stamp(root) != snap.stamp:
                continue  # refused files caught mid-write (an invariant broken by half a file): read again
            raise
        if snapshot.stamp(root) == snap.stamp:
            return built
    raise PolicyError([(root.name, 0, "the policy files kept changing while loading; try again")])


def build(snap: Snapshot, check_tests: bool = True) -> Policy:
    """The policy made of exactly this snapshot's bytes (derived once per process for the same bytes)."""
    key = (str(snap.root.resolve()), snap.digest, check_tests)
    if key not in _loaded:
        fresh = Policy(snap, check_tests=check_tests)
        _loaded.clear()
        _loaded[key] = fresh
    return _loaded[key]


def version_of(policy_dir) -> str:
    """A short hash of the rule files as they are now, to tell which policy a process runs."""
    return snapshot.read(policy_dir).version
