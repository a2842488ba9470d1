"""Reading the rule files with their line numbers, and checking every word (R9.2)."""

import csv
from dataclasses import dataclass

from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import RELATIONS, SESSIONS
from authz_service.policy.snapshot import Snapshot
from authz_service.policy.vocabulary import Vocabulary

EFFECTS = ("allow", "deny")


@dataclass(frozen=True)
class Rule:
    """One `p` or `g` line of a rule file, where it was written."""

    ptype: str
    fields: tuple[str, ...]
    file: str
    line: int

    @property
    def location(self) -> str:
        """`policies/file.csv:12`, the rule's id in decisions and logs."""
        return f"{self.file}:{self.line}"


def read_rules(snap: Snapshot) -> list[Rule]:
    """Every rule line of the folder's *.csv, in file then line order."""
    rules, problems = [], []
    prefix = snap.prefix
    for file in snap.names():
        name = f"{prefix}/{file}"
        for number, text in enumerate(snap.listed_text(file).splitlines(), 1):
            stripped = text.strip()
            if not stripped or stripped.startswith("#"):
                continue
            fields = tuple(f.strip() for f in next(csv.reader([stripped])))
            if fields[0] not in ("p", "g"):
                problems.append((name, number, f"a rule starts with p or g, not {fields[0]!r}"))
                continue
            rules.append(Rule(fields[0], fields[1:], name, number))
    if not rules and not problems:
        problems.append((prefix, 0, "no rule files (*.csv)"))
    if problems:
        raise PolicyError(problems)
    return rules


def check_rules(rules: list[Rule], vocab: Vocabulary) -> None:
    """Refuse unknown groups, kinds, actions, effects and malformed patterns."""
    problems = []
    seen: dict[tuple, str] = {}
    for rule in rules:
        check = _check_p if rule.ptype == "p" else _check_g
        problems += [(rule.file, rule.line, msg) for msg in check(rule.fields, vocab)]
        key = (rule.ptype, rule.fields)
        if key in seen:
            problems.append((rule.file, rule.line, f"duplicate of {seen[key]}"))
        seen.setdefault(key, rule.location)
    if problems:
        raise PolicyError(problems)


def _check_p(fields: tuple[str, ...], vocab: Vocabulary) -> list[str]:
    if len(fields) != 4:
        return [f"a p rule has 4 fields (subject, kind, actions, effect), found {len(fields)}"]
    sub, kind, acts, eft = fields
    errors = []
    if sub not in vocab.groups + vocab.conditions:
        errors.append(f"unknown group or condition {sub!r}")
    if kind != "*" and kind not in vocab.account_kinds:
        errors.append(f"unknown account kind {kind!r}")
    if eft not in EFFECTS:
        errors.append(f"unknown effect {eft!r} (allow or deny)")
    return errors + [f"unknown action {a!r}" for a in expand_actions(acts) if not vocab.is_action(a)]


def _check_g(fields: tuple[str, ...], vocab: Vocabulary) -> list[str]:
    if len(fields) != 2:
        return [f"a g rule has 2 fields (who pattern, group), found {len(fields)}"]
    pattern, target = fields
    errors = [] if target in vocab.groups + vocab.conditions else [f"unknown group {target!r}"]
    parts = pattern.split("/")
    if len(parts) != 4:
        return errors + [f"a who pattern has 4 parts relation/home/link/session: {pattern!r}"]
    groups = vocab.groups + ("-",)
    for part, allowed, what in zip(
        parts, (RELATIONS, groups, groups, SESSIONS), ("relation", "group", "group", "session"), strict=True
    ):
        if part != "*" and part not in allowed:
            errors.append(f"unknown {what} {part!r} in {pattern!r}")
    return errors


def expand_actions(spec: str) -> list[str]:
    """`port: view edit` -> ["port.view", "port.edit"]; `*` -> [] (every action)."""
    if spec == "*":
        return []
    resource, colon, verbs = spec.partition(":")
    if not colon:
        return [spec]
    return [f"{resource.strip()}.{verb}" for verb in verbs.split()]
