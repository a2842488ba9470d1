"""Groups the policy does not know: a reload removing a held group is refused, and a user
holding an unknown group is denied with a reason, never a 500 (R9.6, docs/api.md errors)."""

import pytest

from authz_service import store
from authz_service.store.models import Link, User
from tests.support.auth import bearer
from tests.support.policy_scratch import allowed, remove_read_only, scratch_app

RITA_ON_INITECH = {"user": "rita@acme.example", "action": "port.view", "account": "initech"}


@pytest.fixture
def running(tmp_path, database_url):
    with scratch_app(tmp_path, database_url) as (app, policies):
        yield app, policies


def test_removing_a_held_group_is_refused_until_no_one_holds_it(running):
    """R9.6: the reload is refused naming the group and its holders; /readyz stays 200 and says why;
    once the holders are moved, the same files load at the next tick."""
    app, policies = running
    client, watch = app.test_client(), app.extensions["authz"].watch
    old = client.get("/readyz").json["policy_version"]
    remove_read_only(policies)
    with store.connection():
        holders = (User.select().where(User.group == "read_only").count()
                   + Link.select().where(Link.group == "read_only").count())
    assert watch.check_once() is False
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["policy_version"] == old
    assert f"'read_only' ({holders} holders)" in ready.json["policy_reload_error"]
    assert ready.json["policy_reload_refused_at"].endswith("Z")
    assert allowed(client, RITA_ON_INITECH)  # the last good policy still decides
    with store.connection():
        User.update(group="regular").where(User.group == "read_only").execute()
        Link.update(group="support").where(Link.group == "read_only").execute()
    assert watch.check_once() is True
    ready = client.get("/readyz").json
    assert ready["policy_version"] != old and ready["policy_reload_error"] is None
    assert ready["policy_reload_refused_at"] is None


def test_a_user_holding_an_unknown_group_is_denied_with_a_reason(running):
    """A group set in the database behind the policy's back: every path denies, none answers 500."""
    app, _ = running
    client = app.test_client()
    with store.connection():
        User.update(group="ghost").where(User.email == "sam@acme.example").execute()
        Link.update(group="ghost").where(Link.user == "rita@acme.example").execute()
    for check in (RITA_ON_INITECH, {"user": "sam@acme.example", "action": "port.view", "account": "acme"}):
        answer = client.post("/v1/authorize", json=check, headers=bearer())
        assert answer.status_code == 200 and answer.json["allowed"] is False
        assert "'ghost'" in answer.json["reason"] and answer.json["group"] is None
    batch = client.post("/v1/authorize/batch", headers=bearer(), json={
        "user": "rita@acme.example", "checks": [{"action": "port.view", "account": "initech"}]})
    assert batch.status_code == 200 and batch.json["results"][0]["allowed"] is False
    for path in ("/v1/partners/acme/customers?user=sam@acme.example",
                 "/v1/partners/acme/customers?user=rita@acme.example",
                 "/v1/customers/initech/links?user=ada@acme.example",
                 "/v1/accounts/acme/activity?user=sam@acme.example"):
        assert client.get(path, headers=bearer()).status_code in (200, 403), path
    accounts = client.post("/v1/authorize/accounts", headers=bearer(),
                           json={"user": "sam@acme.example", "action": "port.view"})
    assert accounts.status_code == 200 and accounts.json["items"] == []
