"""The Directory endpoints of docs/api.md (scope manage): partners, their users, customers' users,
deleting a user (R2, R7.4)."""

import re
from datetime import UTC, datetime

import pytest

from authz_service import store
from authz_service.store import directory
from authz_service.store.models import Decision, Link
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import get_user, synced_store

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

def assert_utc_time(value) -> datetime:
    """docs/api.md conventions: times are RFC 3339 in UTC, written with a Z."""
    assert isinstance(value, str) and RFC3339_UTC.match(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def put(client, path: str, body: dict, key: str | None = None):
    return client.put(path, json=body, headers=bearer(key) if key else bearer())

def get_account(account_id: str) -> dict | None:
    with store.connection():
        return directory.get_account(account_id)


def counts() -> dict:
    with store.connection():
        return {name: directory.count(name) for name in ("account", "user", "link")}


def links_of(email: str) -> list[tuple]:
    with store.connection():
        return sorted(Link.select(Link.customer, Link.group).where(Link.user == email).tuples())


# --- partners ---------------------------------------------------------------------------------

def test_put_partner_creates_201_then_renames_200(client, keys):
    """docs/api.md Directory: PUT /v1/partners/{id} {"name"} is 201 when new, 200 when it renames;
    created_at is RFC 3339 UTC with a Z and does not move on a rename."""
    before = counts()
    started = datetime.now(UTC).replace(microsecond=0)
    created = put(client, "/v1/partners/initrode", {"name": "Initrode Resale"}, keys["manage"])
    assert created.status_code == 201, created.json
    assert created.json["partner_id"] == "initrode"
    assert created.json["name"] == "Initrode Resale"
    created_at = assert_utc_time(created.json["created_at"])
    assert abs((created_at - started).total_seconds()) < 60
    assert counts()["account"] == before["account"] + 1

    renamed = put(client, "/v1/partners/initrode", {"name": "Initrode Networks"}, keys["manage"])
    assert renamed.status_code == 200, renamed.json
    assert renamed.json["partner_id"] == "initrode"
    assert renamed.json["name"] == "Initrode Networks"
    assert renamed.json["created_at"] == created.json["created_at"]
    assert counts()["account"] == before["account"] + 1
    stored = get_account("initrode")
    assert stored["kind"] == "partner" and stored["name"] == "Initrode Networks"


def test_put_partner_is_idempotent(client):
    """docs/api.md conventions: PUT is idempotent: the same PUT twice leaves the same partner."""
    first = put(client, "/v1/partners/acme", {"name": "Acme Networks"})
    second = put(client, "/v1/partners/acme", {"name": "Acme Networks"})
    assert first.status_code == second.status_code == 200
    assert first.json == second.json


def test_put_partner_over_a_customer_id_is_409_and_changes_nothing(client):
    """docs/api.md conventions: a duplicate id (a customer's) is 409; the customer keeps its name."""
    before = counts()
    assert_error(put(client, "/v1/partners/initech", {"name": "Not Initech"}), 409)
    assert get_account("initech")["name"] == "Initech"
    assert get_account("initech")["kind"] == "customer"
    assert counts() == before


@pytest.mark.parametrize("partner_id", ["bad id", "a" * 65, "naïve", "x!y"])
def test_put_partner_with_an_impossible_id_is_422(client, partner_id):
    """docs/api.md conventions: a well-formed but invalid id in the path is 422; nothing is created."""
    before = counts()
    assert_error(put(client, f"/v1/partners/{partner_id}", {"name": "X"}), 422)
    assert counts() == before


# --- users ------------------------------------------------------------------------------------

def test_put_partner_user_201_then_200_stored_lower_case(client, keys):
    """docs/api.md Directory, R2.2: a new partner user is 201 with the email stored lower-case; a PUT
    under another spelling of the same email is the same user (200, group changed)."""
    before = counts()
    created = put(client, "/v1/partners/acme/users/New.Person@Acme.Example", {"group": "regular"},
                  keys["manage"])
    assert created.status_code == 201, created.json
    assert created.json["email"] == "new.person@acme.example"
    assert created.json["account_id"] == "acme" and created.json["group"] == "regular"
    assert get_user("new.person@acme.example")["email"] == "new.person@acme.example"

    changed = put(client, "/v1/partners/acme/users/new.person@acme.example", {"group": "support"},
                  keys["manage"])
    assert changed.status_code == 200, changed.json
    assert changed.json == {**created.json, "group": "support"}
    assert get_user("NEW.PERSON@ACME.EXAMPLE")["group"] == "support"
    assert counts()["user"] == before["user"] + 1


def test_mixed_case_email_is_the_existing_user(client):
    """R2.2: `Ada@Acme.Example` is the same user as `ada@acme.example`: 200, not a new user."""
    before = counts()
    response = put(client, "/v1/partners/acme/users/Ada@Acme.Example", {"group": "admin"})
    assert response.status_code == 200, response.json
    assert response.json["email"] == "ada@acme.example"
    assert response.json["account_id"] == "acme" and response.json["group"] == "admin"
    assert counts() == before


def test_put_partner_user_changes_the_group_and_decisions_follow(client, api):
    """docs/api.md Directory, R2.1: a PUT with another group changes it; the next decision uses it."""
    assert api.allowed("lee@acme.example", "customer.invite", "acme")
    response = put(client, "/v1/partners/acme/users/lee@acme.example", {"group": "read_only"})
    assert response.status_code == 200 and response.json["group"] == "read_only"
    assert not api.allowed("lee@acme.example", "customer.invite", "acme")


def test_put_partner_user_into_an_unknown_partner_is_404(client):
    """docs/api.md conventions: an account named in the path that does not exist is 404; nothing is
    created."""
    before = counts()
    error = assert_error(put(client, "/v1/partners/nope/users/new@nope.example",
                             {"group": "admin"}), 404, "not_found")
    assert error["details"].get("id") == "nope"
    assert counts() == before and get_user("new@nope.example") is None


def test_put_customer_user_201_then_200(client):
    """docs/api.md Directory: a new customer user is 201 with the customer as home account; again 200."""
    created = put(client, "/v1/customers/initech/users/Neo@Initech.Example", {"group": "read_only"})
    assert created.status_code == 201, created.json
    assert created.json == {**created.json, "email": "neo@initech.example", "account_id": "initech",
                            "group": "read_only"}
    again = put(client, "/v1/customers/initech/users/neo@initech.example", {"group": "read_only"})
    assert again.status_code == 200 and again.json == created.json


@pytest.mark.parametrize("customer_id", ["no-such-customer", "acme"], ids=["unknown", "a-partner"])
def test_put_customer_user_into_an_unknown_customer_is_404(client, customer_id):
    """docs/api.md Directory: the customer must exist (a partner's id is not a customer): 404, and no
    user is created."""
    before = counts()
    response = put(client, f"/v1/customers/{customer_id}/users/new@nowhere.example",
                   {"group": "admin"})
    assert_error(response, 404, "not_found")
    assert counts() == before and get_user("new@nowhere.example") is None


@pytest.mark.parametrize(("path", "email"), [
    ("/v1/customers/initech/users/Ada@Acme.Example", "ada@acme.example"),
    ("/v1/partners/globex/users/ada@acme.example", "ada@acme.example"),
    ("/v1/customers/umbrella/users/ian@initech.example", "ian@initech.example"),
    ("/v1/partners/acme/users/IAN@initech.example", "ian@initech.example"),
], ids=["partner-to-customer", "partner-to-partner", "customer-to-customer", "customer-to-partner"])
def test_email_with_another_home_account_is_409_and_changes_nothing(client, path, email):
    """docs/api.md conventions, R2.1-R2.2: an email with another home account is 409 email_taken; the
    user keeps their home account, group and links."""
    before, user, links = counts(), get_user(email), links_of(email)
    error = assert_error(put(client, path, {"group": "read_only"}), 409, "email_taken")
    assert error["details"].get("account_id") == user["account_id"]
    assert get_user(email) == user
    assert links_of(email) == links
    assert counts() == before


def test_directory_calls_carry_no_user(client):
    """docs/api.md Directory: these calls carry no `user`; a body with one is an unknown field (400)."""
    before = counts()
    response = put(client, "/v1/partners/acme/users/new@acme.example",
                   {"group": "regular", "user": "ada@acme.example"})
    assert_error(response, 400)
    assert counts() == before


# --- deleting users ---------------------------------------------------------------------------

def test_delete_user_204_then_404(client, keys):
    """docs/api.md Directory and conventions: DELETE /v1/users/{email} is 204 with no body; a DELETE
    of a user already gone is 404 and changes nothing."""
    before = counts()
    first = client.delete("/v1/users/lee@acme.example", headers=bearer(keys["manage"]))
    assert first.status_code == 204 and first.get_data() == b""
    assert get_user("lee@acme.example") is None
    assert counts()["user"] == before["user"] - 1

    after = counts()
    second = client.delete("/v1/users/lee@acme.example", headers=bearer(keys["manage"]))
    assert_error(second, 404, "not_found")
    assert counts() == after


def test_delete_user_matches_the_email_case_insensitively(client):
    """R2.2: DELETE /v1/users/Lee@ACME.example removes lee@acme.example."""
    assert client.delete("/v1/users/Lee@ACME.example", headers=bearer()).status_code == 204
    assert get_user("lee@acme.example") is None


def test_delete_user_needs_the_manage_scope(client, keys):
    """docs/api.md conventions: a decide-only key is 403 on DELETE; the user stays."""
    response = client.delete("/v1/users/lee@acme.example", headers=bearer(keys["decide"]))
    assert_error(response, 403)
    assert get_user("lee@acme.example") is not None


def test_delete_user_removes_links_and_keeps_decision_log(client, api):
    """docs/api.md Directory, R7.4: deleting a user removes their links, but their decision log
    entries stay, with their email; afterwards they are an unknown user (a denial)."""
    email = "rita@acme.example"
    decided = api.authorize(email, "port.create", "initech")
    assert decided.status_code == 200 and decided.json["allowed"] is True
    decision_id = decided.json["decision_id"]
    assert len(links_of(email)) == 2
    before = counts()

    assert client.delete(f"/v1/users/{email}", headers=bearer()).status_code == 204

    assert links_of(email) == []
    assert counts()["link"] == before["link"] - 2
    assert get_user(email) is None
    with synced_store():
        rows = list(Decision.select().where(Decision.user_email == email))
        kept = Decision.get_by_id(decision_id)
    assert rows and all(row.user_email == email for row in rows)
    assert kept.user_email == email and kept.allowed is True and kept.account_id == "initech"

    after = api.authorize(email, "port.view", "initech")
    assert after.status_code == 200
    assert after.json["allowed"] is False and after.json["group"] is None


def test_deleted_user_can_be_put_again_without_old_links(client, api):
    """docs/api.md Directory: a deleted user put back is new (201) and gets no old link back."""
    assert client.delete("/v1/users/sam@acme.example", headers=bearer()).status_code == 204
    response = put(client, "/v1/partners/acme/users/sam@acme.example", {"group": "support"})
    assert response.status_code == 201
    assert links_of("sam@acme.example") == []
    assert not api.allowed("sam@acme.example", "port.view", "initech")


def test_a_name_out_of_range_is_422_and_changes_nothing(client):
    """docs/api.md: a well-formed but invalid value (an empty or 201-character name) is 422."""
    for name in ("", "x" * 201):
        response = client.put("/v1/partners/acme", json={"name": name}, headers=bearer())
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "invalid"
    with store.connection():
        assert directory.get_account("acme")["name"] == "Acme Networks"


def test_a_limit_given_as_a_string_is_malformed(client):
    """docs/api.md: a wrong type in a JSON body (limit "5") is 400, not coerced."""
    response = client.post("/v1/authorize/accounts", json={"user": "ada@acme.example",
                           "action": "port.view", "limit": "5"}, headers=bearer())
    assert response.status_code == 400
