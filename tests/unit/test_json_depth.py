"""The depth limit on request bodies (docs/api.md conventions: 400 `malformed_json` past 32 levels)
found by C-speed passes (api/request_input.too_deep) agrees with counting bracket by bracket."""

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from authz_service.api.request_input import MAX_DEPTH, too_deep

STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)

TEXT = st.text(alphabet='[]{}"\\ab\u00e9\n', max_size=6)
VALUES = st.recursive(st.none() | st.integers() | TEXT,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=60)


def counted(text: str) -> bool:
    """The reference (the scan before): strings removed, then one bracket at a time."""
    depth = 0
    for char in STRINGS.sub("", text):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def nested(depth: int, value=None) -> object:
    for level in range(depth):
        value = [value] if level % 2 else {"k[": value}
    return value


@settings(max_examples=400, deadline=None)
@given(VALUES, st.integers(min_value=0, max_value=40), st.booleans())
def test_json_agrees_with_counting(value, extra, ascii_only):
    """Any JSON value, wrapped up to 40 levels more, escaped or raw: both say the same."""
    text = json.dumps(nested(extra, value), ensure_ascii=ascii_only)
    assert too_deep(text) == counted(text)


def test_at_and_past_the_limit():
    """32 levels pass, 33 do not, however wide; 100k deep is found without recursion."""
    for width in (1, 40):
        assert not too_deep(json.dumps([nested(MAX_DEPTH - 1, 1)] * width))
        assert too_deep(json.dumps([nested(MAX_DEPTH, 1)] * width))
    assert too_deep("[" * 100_000 + "]" * 100_000)
    assert too_deep("[" * (MAX_DEPTH + 1))  # left open: depth all the same
    assert not too_deep(json.dumps({"user": "[" * 100 + "{" * 100}))  # in a string: not depth
