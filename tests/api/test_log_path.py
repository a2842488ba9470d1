"""The API suite's app records decisions as `authz serve` does: spool, then the writer (R7.1, R7.4)."""

import os

from authz_service import store
from authz_service.log import chain, spool
from authz_service.store.models import Decision
from tests.support.auth import bearer


def test_a_decision_is_in_the_spool_before_its_answer_and_stored_after_a_sync(client):
    """R7.4: the answer's decision_id is already a line of the spool; after a sync it is stored."""
    response = client.post("/v1/authorize", headers=bearer(),
                           json={"user": "ada@acme.example", "action": "port.view", "account": "initech"})
    decision_id = response.json["decision_id"]
    with open(os.environ[spool.SPOOL_ENV], encoding="utf-8") as spooled:
        assert decision_id in spooled.read()
    chain.sync()
    with store.connection():
        assert Decision.get_by_id(decision_id).action == "port.view"
