"""Load and check policies/, decide from the derived table (R9). Only this package imports casbin."""

import hashlib
from pathlib import Path

from authz_service.policy import fields, files, tables, vocabulary
from authz_service.policy.engine import Engine
from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import NONE, Facts
from authz_service.policy.table import Verdict, derive

__all__ = ["Policy", "PolicyError", "Facts", "Verdict", "NONE", "load", "version_of"]


class Policy:
    """A loaded, checked policy: its vocabulary, its casbin engine and its decision table."""

    def __init__(self, policy_dir: Path, check_tests: bool = True):
        self.dir = Path(policy_dir)
        self.vocab = vocabulary.load(self.dir)
        self.rules = files.read_rules(self.dir)
        files.check_rules(self.rules, self.vocab)
        self.fields = fields.load(self.dir, self.vocab)
        if check_tests:
            tables.check_coverage(self.dir, self.vocab)
        self.engine = Engine(self.dir, self.rules)
        self.table = derive(self.engine, self.vocab)
        self.version = version_of(self.dir)

    def decide(self, facts: Facts, action: str) -> Verdict:
        """The decision for these facts; the action must be known (see `is_action`)."""
        return self.table[(*facts, action)]

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


def load(policy_dir, check_tests: bool = True) -> Policy:
    """Read, check and derive; a PolicyError names the file and line at fault (R9.2).

    Loaded policies are kept by the hash of their files, so loading the same
    files twice in one process (tests, several apps) derives the table once.
    """
    key = (str(Path(policy_dir).resolve()), version_of(policy_dir), check_tests)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = Policy(Path(policy_dir), check_tests=check_tests)
    return _loaded[key]


def version_of(policy_dir) -> str:
    """A short hash of every policy file, to tell which policy a process runs."""
    digest = hashlib.sha256()
    root = Path(policy_dir)
    for path in sorted([*root.glob("*.toml"), *root.glob("*.conf"), *root.glob("*.csv")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
