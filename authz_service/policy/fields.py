"""Per-field visibility (R5.8): which action each column of a view needs, from policies/fields.toml."""

import tomllib

from authz_service.policy.errors import PolicyError
from authz_service.policy.snapshot import Snapshot
from authz_service.policy.vocabulary import Vocabulary

FILE = "fields.toml"


def load(snap: Snapshot, vocab: Vocabulary) -> dict[str, dict[str, str]]:
    """{view: {column: action}}; an unknown action is refused with its line (R9.2)."""
    text = snap.text(FILE)
    if text is None:
        return {}
    name = f"{snap.prefix}/{FILE}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([(name, 0, f"syntax error: {exc}")]) from None
    problems = []
    for view, columns in data.items():
        if not isinstance(columns, dict):
            problems.append((name, _line(text, view), f"{view} must be a table of column = action"))
            continue
        for column, action in columns.items():
            if not isinstance(action, str) or not vocab.is_action(action):
                problems.append((name, _line(text, column), f"unknown action {action!r} for {view}.{column}"))
    if problems:
        raise PolicyError(problems)
    return {view: dict(columns) for view, columns in data.items()}


def _line(text: str, key: str) -> int:
    """The first line that starts with `key` (for error messages)."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(key) or line.strip() == f"[{key}]":
            return number
    return 0
