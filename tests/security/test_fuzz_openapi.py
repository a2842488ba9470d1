"""API fuzzing: schemathesis against the service's own /openapi.json, every operation.

No 500 for anything a caller can send; every response matches the documented
schema (errors: the contract's shape, docs/api.md conventions). Besides what schemathesis
generates, hooks put hostile values (issue 16 class 7) into one field of the body, the
query or the path: lone surrogates, NUL, format characters, 10 kB, times near year 1 and
9999 with offsets, integers of thousands of digits and nesting past 32 levels.
tests/security/test_hostile_input.py tries each of them in every field, deterministically.
"""

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from authz_service import store
from authz_service.app import create_app
from authz_service.store import fixtures
from tests.support.auth import BOOTSTRAP
from tests.support.soak import SCALE, tally

EXAMPLES = int(os.environ.get("AUTHZ_FUZZ_EXAMPLES", "20")) * SCALE  # `make soak`: 10x
DB_URL = f"sqlite:///{tempfile.mkdtemp(prefix='authz-fuzz-')}/fuzz.db"
APP = create_app({"database_url": DB_URL, "bootstrap_key": BOOTSTRAP, "policy_poll_seconds": 0,
                  "mail_poll_seconds": 0}, migrate=True)
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)

URL_HOSTILE = ["a\x00b", "ada\u200b@acme.example", "\u202eada@acme.example", "x" * 10_000,
               "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9" * 400]
BODY_HOSTILE = [*URL_HOSTILE, "a\ud800b", "\udfff", 10**4000, -(10**80), 1e308, "nest"]


def _nested(depth: int):
    value: object = "deep"
    for _ in range(depth):
        value = [value]
    return value


BODY_HOSTILE[-1] = _nested(40)  # past the 32 levels request_input allows


def _with_one_hostile(value, hostile: list):
    """A strategy: `value` as generated, or with one of its scalar leaves made hostile."""
    leaves = list(_leaves(value))
    if not leaves:
        return st.just(value)
    return st.one_of(st.just(value), st.builds(
        lambda where, bad: _replace(value, where, bad), st.sampled_from(leaves), st.sampled_from(hostile)))


def _leaves(value, where=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*where, index))
    elif where:
        yield where


def _replace(value, where: tuple, bad):
    if not where:
        return bad
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[where[0]] = _replace(value[where[0]], where[1:], bad)
    return copy


@schema.hook("flatmap_body")
def hostile_body(context, body):
    """Sometimes one body field is hostile."""
    return _with_one_hostile(body, BODY_HOSTILE)


@schema.hook("flatmap_query")
def hostile_query(context, query):
    """Sometimes one query value is hostile (a URL carries no lone surrogate)."""
    return _with_one_hostile(query, URL_HOSTILE)


@schema.hook("flatmap_path_parameters")
def hostile_path(context, path_parameters):
    """Sometimes one path value is hostile."""
    return _with_one_hostile(path_parameters, URL_HOSTILE)


@pytest.fixture(autouse=True)
def fuzz_database():
    """The fuzzed app's own database, with the named fixtures, bound for this test."""
    store.connect(DB_URL)
    with store.connection():
        fixtures.load()
    yield
    store.close()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation(case):
    """Generated requests with a valid key: never a 500, responses as documented.

    Schema-valid values the service refuses on meaning (an unknown group, user or
    action: 404/409/422 per docs/api.md) are expected, so "positive data acceptance" is off.
    """
    response = case.call_and_validate(headers={"Authorization": f"Bearer {BOOTSTRAP}"},
                                      excluded_checks=[positive_data_acceptance])
    tally("fuzz (schemathesis)", requests=1, server_errors=response.status_code >= 500)
