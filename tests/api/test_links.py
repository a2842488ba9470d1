"""Manage Users: links between partner users and customers (R4.2-R4.6, R4.9), over HTTP."""

import pytest

from authz_service import store
from authz_service.store.models import Decision, Link, User
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store


def links_table() -> list[tuple]:
    with store.connection():
        return sorted(Link.select(Link.user, Link.customer, Link.group).tuples())


def put_link(client, customer, email, user="ada@acme.example", **body):
    return client.put(f"/v1/customers/{customer}/links/{email}", json={"user": user, **body},
                      headers=bearer())


def test_new_link_defaults_to_support(client, api):
    """R4.2: a new link's group is support; lee then sees hooli as support."""
    response = put_link(client, "hooli", "lee@acme.example")
    assert response.status_code == 201
    assert response.json["group"] == "support" and response.json["email"] == "lee@acme.example"
    assert response.json["linked_at"].endswith("Z")
    assert api.authorize("lee@acme.example", "port.edit", "hooli").json["group"] == "support"


def test_change_group_and_keep_group(client, api):
    """R4.2, R4.3: PUT with a group changes it (200); without a group the link keeps its own."""
    assert put_link(client, "initech", "sam@acme.example", group="regular").status_code == 200
    assert api.allowed("sam@acme.example", "port.create", "initech")
    response = put_link(client, "initech", "sam@acme.example")
    assert response.status_code == 200 and response.json["group"] == "regular"


def test_the_partner_group_does_not_carry_into_customers(client, api):
    """R4.3: rita (read_only at home) linked as admin on hooli acts as admin there only."""
    assert put_link(client, "hooli", "rita@acme.example", group="admin").status_code == 201
    assert api.allowed("rita@acme.example", "user.manage", "hooli")
    assert not api.allowed("rita@acme.example", "port.create", "acme")


@pytest.mark.parametrize(("email", "status", "code"), [
    ("ada@acme.example", 409, "not_linkable"),       # a partner admin
    ("gus@globex.example", 409, "not_linkable"),     # another partner's user
    ("ian@initech.example", 409, "not_linkable"),    # a customer's user
    ("nobody@acme.example", 404, "not_found"),       # unknown
])
def test_linking_the_wrong_user_is_refused_and_changes_nothing(client, email, status, code):
    """R4.4: an admin, another partner's user, a customer's user or an unknown user: refused."""
    before = links_table()
    response = put_link(client, "hooli", email, group="regular")
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert email in response.json["error"]["message"] or status == 404
    assert links_table() == before


@pytest.mark.parametrize("actor", ["reggie@acme.example", "rita@acme.example", "sam@acme.example",
                                   "ian@initech.example", "gina@globex.example", "nobody@x.example"])
def test_only_a_partner_admin_manages_links(client, actor):
    """R4.5: anyone but a partner admin of the customer's own partner gets 403; nothing changes."""
    before = links_table()
    response = put_link(client, "hooli", "lee@acme.example", user=actor)
    assert_error(response, 403, "forbidden")
    decision_id = response.json["error"]["details"]["decision_id"]
    assert client.delete("/v1/customers/initech/links/sam@acme.example",
                         query_string={"user": actor}, headers=bearer()).status_code == 403
    assert links_table() == before
    with synced_store():
        entry = Decision.get_by_id(decision_id)
    assert (entry.action, entry.allowed, entry.log_account) == ("grant.manage", False, "acme")


def test_another_partners_admin_cannot_touch_our_customers(client):
    """R4.5, R4.8: gina (globex admin) cannot link globex's gus to acme's hooli, nor list its links."""
    before = links_table()
    assert put_link(client, "hooli", "gus@globex.example", user="gina@globex.example").status_code == 403
    assert client.get("/v1/customers/hooli/links", query_string={"user": "gina@globex.example"},
                      headers=bearer()).status_code == 403
    assert links_table() == before


def test_revoke_takes_effect_at_once(client, api):
    """R4.6: once the DELETE returns, the next decision denies."""
    assert api.allowed("sam@acme.example", "port.view", "initech")
    response = client.delete("/v1/customers/initech/links/sam@acme.example",
                             query_string={"user": "ada@acme.example"}, headers=bearer())
    assert response.status_code == 204
    body = api.authorize("sam@acme.example", "port.view", "initech").json
    assert body["allowed"] is False and body["group"] is None
    again = client.delete("/v1/customers/initech/links/sam@acme.example",
                          query_string={"user": "ada@acme.example"}, headers=bearer())
    assert_error(again, 404, "not_found")


def test_change_takes_effect_at_once(client, api):
    """R4.6: a changed link's group applies to the very next decision."""
    assert not api.allowed("sam@acme.example", "port.create", "initech")
    put_link(client, "initech", "sam@acme.example", group="regular")
    assert api.allowed("sam@acme.example", "port.create", "initech")


def test_links_and_linkable_lists(client):
    """R4.2, R4.4: the panel lists links, and only non-admin partner users not yet linked."""
    listed = client.get("/v1/customers/initech/links", query_string={"user": "ada@acme.example"},
                        headers=bearer())
    assert listed.status_code == 200
    assert [(i["email"], i["group"]) for i in listed.json["items"]] == [
        ("rita@acme.example", "regular"), ("sam@acme.example", "support")]
    linkable = client.get("/v1/customers/initech/linkable-users",
                          query_string={"user": "ada@acme.example"}, headers=bearer())
    assert linkable.status_code == 200
    assert linkable.json["items"] == [{"email": "lee@acme.example", "group": "regular"},
                                      {"email": "reggie@acme.example", "group": "regular"}]
    assert linkable.json["next_cursor"] is None


def test_link_lists_page_with_cursors(client):
    """docs/api.md lists: limit and cursor walk every link once."""
    seen, cursor = [], None
    while True:
        query = {"user": "ada@acme.example", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/customers/initech/links", query_string=query, headers=bearer()).json
        seen += [i["email"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["rita@acme.example", "sam@acme.example"]


def test_linked_user_made_admin_keeps_links_unused(client, api):
    """R4.9: sam made partner admin acts as admin on initech, link kept; made support again, it applies."""
    client.put("/v1/partners/acme/users/sam@acme.example", json={"group": "admin"}, headers=bearer())
    assert api.authorize("sam@acme.example", "port.delete", "initech").json["group"] == "admin"
    assert ("sam@acme.example", "initech", "support") in links_table()
    client.put("/v1/partners/acme/users/sam@acme.example", json={"group": "support"}, headers=bearer())
    assert api.authorize("sam@acme.example", "port.delete", "initech").json["group"] == "support"


def test_link_calls_land_in_the_partners_log(client):
    """R7.2: each link call is a grant.manage decision in the partner's log, not the customer's."""
    put_link(client, "hooli", "lee@acme.example")
    with synced_store():
        rows = list(Decision.select().where(Decision.action == "grant.manage"))
    assert rows and all(r.log_account == "acme" for r in rows)
    assert rows[-1].resource_id == "hooli/lee@acme.example"


def test_unknown_group_and_unknown_customer(client):
    """docs/api.md: unknown group 422, unknown customer 404; nothing changes."""
    before = links_table()
    assert_error(put_link(client, "hooli", "lee@acme.example", group="owner"), 422, "invalid")
    assert_error(put_link(client, "nowhere", "lee@acme.example"), 404, "not_found")
    assert put_link(client, "acme", "lee@acme.example").status_code == 404  # a partner, not a customer
    assert links_table() == before
    with store.connection():
        assert User.get_by_id("lee@acme.example").group == "regular"


def test_a_read_without_a_user_is_refused_unless_previewed(app):
    """Only the console's preview lists links with no user asking; any other read without one
    is refused before anything is decided or recorded (fail closed)."""
    from authz_service.portal import manage_users

    policy = app.extensions["authz"].policy
    with synced_store():
        before = Decision.select().count()
        assert manage_users.list_links(policy, None, "hooli", 10, None, preview=True)[0]
        with pytest.raises(TypeError, match="needs the user asking"):
            manage_users.list_links(policy, None, "hooli", 10, None)
        with pytest.raises(TypeError, match="needs the user asking"):
            manage_users.linkable(policy, None, "hooli", 10, None)
        assert Decision.select().count() == before
