"""API fuzzing: schemathesis against the service's own /openapi.json, every operation.

No 500 for anything a caller can send; every response matches the documented
schema (errors: the contract's shape, docs/api.md conventions).
"""

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from authz_service import create_app, fixtures, store
from tests.conftest import BOOTSTRAP
from tests.soak import SCALE, tally

EXAMPLES = int(os.environ.get("AUTHZ_FUZZ_EXAMPLES", "20")) * SCALE  # `make soak`: 10x
DB_URL = f"sqlite:///{tempfile.mkdtemp(prefix='authz-fuzz-')}/fuzz.db"
APP = create_app({"database_url": DB_URL, "bootstrap_key": BOOTSTRAP, "policy_poll_seconds": 0,
                  "mail_poll_seconds": 0})
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


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
