"""Policy changes reach a running service; a bad change keeps the last good policy (R9.2)."""

import pytest

from tests.support.auth import bearer
from tests.support.policy_scratch import CHECK, allowed, grant_support_document_upload, scratch_app


@pytest.fixture
def running(tmp_path):
    """An app on a scratch copy of policies/, with the demo data, not polling by itself."""
    with scratch_app(tmp_path) as (app, policies):
        yield app, policies


def test_a_good_change_is_picked_up(running):
    """A checked change to the files is in force after the next poll; /readyz shows the new version."""
    app, policies = running
    client = app.test_client()
    old = client.get("/readyz").json["policy_version"]
    assert not allowed(client)
    grant_support_document_upload(policies)
    assert app.extensions["authz"].watch.check_once() is True
    assert allowed(client)
    ready = client.get("/readyz").json
    assert ready["policy_version"] != old and ready["policy_reload_error"] is None


def test_a_bad_change_keeps_the_last_good_policy(running):
    """R9.2: a reload that fails keeps the last good policy and says why, with file and line."""
    app, policies = running
    client = app.test_client()
    old = client.get("/readyz").json["policy_version"]
    rules = policies / "services.csv"
    rules.write_text(rules.read_text().replace("p, support, *, port: view edit", "p, suport, *, port: view edit"))
    assert app.extensions["authz"].watch.check_once() is False
    ready = client.get("/readyz").json
    assert ready["policy_version"] == old
    assert "services.csv" in ready["policy_reload_error"] and "suport" in ready["policy_reload_error"]
    assert client.post("/v1/authorize", json={**CHECK, "action": "port.edit"},
                       headers=bearer()).json["allowed"] is True
