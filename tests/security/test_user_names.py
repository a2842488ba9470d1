"""R2.3 on every path that stores a user name: the directory (partner and customer users),
invites, accepting one, and links. A look-alike is 422 `invalid_email`, never stored, and on
the paths that decide, refused before deciding (so nothing is recorded either)."""

import pytest

from authz_service import store, usernames
from authz_service.store import directory
from authz_service.store import invites as store_invites
from authz_service.store.models import Account, Decision, Invite, Link, User, utcnow
from tests.support.auth import bearer
from tests.support.errors import assert_error

# Each could pass for another name, or is not one (R2.3).
LOOKALIKES = {
    "trailing-dot": "mallory@acme.example.",
    "fullwidth": "ｍａｌｌｏｒｙ@acme.example",
    "ligature": "ﬁona@acme.example",
    "kelvin-sign": "\u212aim@acme.example",
    "zero-width-space": "mal\u200blory@acme.example",
    "zero-width-joiner": "mal\u200dlory@acme.example",
    "soft-hyphen": "mal\u00adlory@acme.example",
    "bom": "mallory@acme.exam\ufeffple",
    "right-to-left-override": "mallory\u202e@acme.example",
    "dotted-capital-i": "\u0130da@acme.example",  # lower() is "i̇": two characters
    "control": "mallory\u0007@acme.example",
    "line-separator": "mallory\u2028@acme.example",
    "space": "mal lory@acme.example",
    "255-characters": "m" * 242 + "@acme.example",
    "254-after-lowering-255": "\u0130" + "m" * 240 + "@acme.example",
    "two-ats": "mal@lory@acme.example",
    "no-domain": "mallory@",
}
ACCEPTED = {
    "upper-case": ("Mallory.New@ACME.example", "mallory.new@acme.example"),
    "254-characters": ("M" * 241 + "@acme.example", "m" * 241 + "@acme.example"),
    "accented": ("zoë@acme.example", "zoë@acme.example"),
}


def snapshot() -> tuple[int, ...]:
    with store.connection():
        return tuple(model.select().count() for model in (User, Invite, Link, Decision, Account))


def put_partner_user(client, email):
    return client.put(f"/v1/partners/acme/users/{email}", json={"group": "regular"}, headers=bearer())


def put_customer_user(client, email):
    return client.put(f"/v1/customers/initech/users/{email}", json={"group": "regular"},
                      headers=bearer())


def invite(client, email):
    return client.post("/v1/partners/acme/invites", json={"user": "ada@acme.example", "email": email},
                       headers=bearer())


def accept(client, email):
    made = invite(client, "owner@wayne.example")
    assert made.status_code == 201, made.json
    before = snapshot()
    response = client.post(f"/v1/invites/{made.json['invite_id']}/accept", headers=bearer(),
                           json={"customer_id": "wayne", "name": "Wayne", "admin_email": email})
    accept.before = before
    return response


def link(client, email):
    return client.put(f"/v1/customers/initech/links/{email}", json={"user": "ada@acme.example"},
                      headers=bearer())


PATHS = {"partner-user": put_partner_user, "customer-user": put_customer_user, "invite": invite,
         "accept": accept, "link": link}


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_a_look_alike_is_refused_on_every_storing_path(client, path, name):
    """R2.3: 422 invalid_email with the reason; no user, invite, link, account or log entry made."""
    accept.before = None
    before = snapshot()
    response = path(client, name)
    error = assert_error(response, 422, "invalid_email")
    assert "R2.3" in error["message"] and error["details"]["reason"]
    assert snapshot() == (accept.before or before)


@pytest.mark.parametrize(("name", "stored"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_an_acceptable_name_is_stored_lower_cased(client, name, stored):
    """R2.2: compared case-insensitively, stored lower-case; 254 characters is still a name."""
    response = put_partner_user(client, name)
    assert response.status_code == 201, response.json
    assert response.json["email"] == stored
    assert put_partner_user(client, stored.upper() if stored.isascii() else stored).status_code == 200


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_the_store_refuses_a_look_alike_whoever_calls_it(app, name):
    """R2.3 holds below the API too (console, CLI, fixtures): the store's user, link and invite writes."""
    before = snapshot()
    with store.connection():
        with pytest.raises(usernames.InvalidUserName):
            directory.put_user(name, "acme", "partner", "regular")
        with pytest.raises(usernames.InvalidUserName):
            directory.put_link(name, "initech", "support")
        with pytest.raises(usernames.InvalidUserName):
            store_invites.create("inv-x", "acme", name, "ada@acme.example", utcnow(), utcnow())
    assert snapshot() == before


def test_the_254_check_runs_on_the_stored_form():
    """R2.3: "every limit is checked on the stored form"."""
    assert usernames.stored_form("A" * 241 + "@ACME.EXAMPLE") == "a" * 241 + "@acme.example"
    with pytest.raises(usernames.InvalidUserName, match="length"):
        usernames.stored_form("\u0130" + "a" * 240 + "@acme.example")
