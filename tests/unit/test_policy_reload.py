"""Policy changes reach a running service; a bad change keeps the last good policy (R9.2)."""

import shutil
from pathlib import Path

import pytest

from authz_service import create_app, store
from tests.conftest import BOOTSTRAP, bearer

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CHECK = {"user": "ike@initech.example", "action": "port.create", "account": "initech"}


@pytest.fixture
def running(tmp_path):
    """An app on a scratch copy of policies/, with the demo data, not polling by itself."""
    from authz_service import fixtures

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    app = create_app({"database_url": f"sqlite:///{tmp_path}/a.db", "bootstrap_key": BOOTSTRAP,
                      "policy_dir": str(policies), "policy_poll_seconds": 0})
    with store.connection():
        fixtures.load()
    yield app, policies
    store.close()


def allowed(client) -> bool:
    return client.post("/v1/authorize", json=CHECK, headers=bearer()).json["allowed"]


def grant_support_port_create(policies: Path) -> None:
    """Support may create ports, and the R3 table row says so (a consistent change)."""
    rules = policies / "services.csv"
    rules.write_text(rules.read_text().replace("p, support, *, port: view edit", "p, support, *, port: view create edit"))
    table = policies / "tests" / "r3_customer_account.csv"
    table.write_text(table.read_text().replace("ike@initech.example,port.create,initech,deny",
                                               "ike@initech.example,port.create,initech,allow"))
    table = policies / "tests" / "r3_partner_account.csv"
    table.write_text(table.read_text().replace("sam@acme.example,port.create,acme,deny",
                                               "sam@acme.example,port.create,acme,allow"))


def test_a_good_change_is_picked_up(running):
    """A checked change to the files is in force after the next poll; /readyz shows the new version."""
    app, policies = running
    client = app.test_client()
    old = client.get("/readyz").json["policy_version"]
    assert not allowed(client)
    grant_support_port_create(policies)
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
