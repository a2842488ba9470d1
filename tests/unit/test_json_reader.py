"""api/request_input.loads reads a body with one decoder made once: what it accepts, and what it
refuses as 400 `malformed_json` or 422 `invalid`, is what json.loads given the same readers does
(docs/decisions/016-hostile-input.md, 053)."""

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from authz_service.api import request_input
from authz_service.api.errors import ApiError

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)
NEAR_JSON = st.builds(lambda value, before, after: before + json.dumps(value) + after, JSON_VALUES,
                      st.sampled_from(["", " ", "\ufeff", "\n\t", "x", "[", "\u00a0"]),
                      st.sampled_from(["", " ", "\n", "x", "}", "]", ",", "\ufeff", "{}"]))
TEXTS = NEAR_JSON | st.text(alphabet=st.sampled_from('{}[]":,0123456789.eE-+ \\untrfalsNI\ufeff'), max_size=30)


def reference(text: str):
    """json.loads with request_input's readers of numbers and constants: ("value", v) or the
    ApiError code and status it answers."""
    try:
        value = json.loads(text, parse_int=request_input._integer, parse_float=request_input._float,
                           parse_constant=request_input._constant)
        request_input.refuse_unstorable(value)  # NUL, a lone surrogate: 422, however escaped
        return "value", value
    except ApiError as error:
        return error.code, error.status
    except (ValueError, RecursionError):
        return "malformed_json", 400


def read(text: str):
    try:
        return "value", request_input.loads(text.encode("utf-8", "surrogatepass"))
    except ApiError as error:
        return error.code, error.status


@settings(max_examples=600, deadline=None)
@given(TEXTS)
@example("\ufeff{}")
@example('{"a": 1} ')
@example("NaN")
@example('["\\u0000", "\\ud800"]')
@example('{"a": 1e999}')
def test_the_reader_answers_as_json_loads_does(text):
    """Values equal where json.loads reads them; its refusals (a BOM first, trailing text, NaN, a
    number out of range) the same error (R5.10's hostile input, the contract's shape)."""
    expected = reference(text)
    if expected[0] == "value" and request_input.too_deep(text):
        expected = ("malformed_json", 400)
    assert read(text) == expected


def test_the_decoder_is_made_once(monkeypatch):
    """No decoder is made per body."""
    made: list = []
    original = json.JSONDecoder.__init__
    monkeypatch.setattr(json.JSONDecoder, "__init__", lambda self, *a, **k: made.append(1) or original(self, *a, **k))
    for _ in range(3):
        assert request_input.loads(b'{"user": "u", "n": 1}') == {"user": "u", "n": 1}
    assert made == []


@pytest.mark.parametrize("text", ["\ufeff[]", "[] []", "[1,]"])
def test_what_json_refuses_is_malformed(text):
    assert read(text) == ("malformed_json", 400)
