"""The console's "Who has access" pages (R10.3): per customer and per user, reached from the
console's pages, behind its sign-in, read from the policy in force and never recorded (R7.5)."""

import re
from datetime import timedelta

import pytest

from authz_service import store
from authz_service.api.fields import rfc3339
from authz_service.store import directory
from authz_service.store.models import utcnow
from tests.support.console import entries, make_key, sign_in

ROW = re.compile(r"<tr>\s*<td>(?:<a [^>]*>)?([^<]+)(?:</a>)?</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>")


@pytest.fixture
def console(client):
    """A client signed in with an audit key."""
    assert sign_in(client, make_key("auditor", ["audit"])).status_code == 302
    return client


def rows(body: str) -> list[tuple]:
    return [tuple(cell.strip() for cell in m.groups()) for m in ROW.finditer(body)]


def test_signed_out_is_sent_to_sign_in(client):
    for path in ("/console/access?customer=initech", "/console/access/user?email=rita@acme.example"):
        response = client.get(path)
        assert response.status_code == 302 and "/console/signin" in response.headers["Location"]


def test_every_holder_of_a_customer_with_group_and_how(console):
    """Partner admins, the customer's users and linked users; pat's old link is not what pat uses."""
    stored = len(entries())
    body = console.get("/console/access?customer=hooli").get_data(as_text=True)
    assert rows(body) == [("ada@acme.example", "admin", "partner admin"),
                          ("hank@hooli.example", "regular", "home account"),
                          ("pat@acme.example", "admin", "partner admin")]
    assert "no end" in body
    assert len(entries()) == stored  # a reviewer's read is nobody's activity (R7.5)


def test_an_action_filter_keeps_those_it_allows(console):
    body = console.get("/console/access?customer=initech&action=port.create").get_data(as_text=True)
    assert [r[0] for r in rows(body)] == ["ada@acme.example", "ian@initech.example", "ivy@initech.example",
                                          "pat@acme.example", "rita@acme.example"]


def test_every_account_a_user_acts_on(console):
    body = console.get("/console/access/user?email=RITA@acme.example").get_data(as_text=True)
    assert rows(body) == [("Acme Networks (acme)", "partner", "read_only"),
                          ("Initech (initech)", "customer", "regular"),
                          ("Umbrella Corp (umbrella)", "customer", "support")]
    assert 'href="/console/access?customer=initech"' in body


@pytest.mark.parametrize(("path", "said"), [
    ("/console/access?customer=initech&action=port.fly", "Unknown action"),
    ("/console/access?customer=initech&cursor=%25%25", "not valid any more"),
    ("/console/access/user?email=nobody@x.example", "acts nowhere"),
])
def test_odd_requests_are_said_not_raised(console, path, said):
    response = console.get(path)
    assert response.status_code == 200 and said in response.get_data(as_text=True)


def test_reached_from_manage_users_which_lists_who_has_access(console):
    """The Manage Users panel shows who has access beside the links, partner admins included,
    and says an admin's old link is unused (R4.1, R4.9)."""
    body = console.get("/console/links?customer=hooli").get_data(as_text=True)
    assert "Who has access to hooli" in body and 'href="/console/access?customer=hooli"' in body
    assert "<li>ada@acme.example: admin, partner admin, no end</li>" in body
    assert "<li>pat@acme.example: admin, partner admin, no end</li>" in body
    assert "unused: a partner admin acts" in body
    assert 'href="/console/access"' in console.get("/console/policy").get_data(as_text=True)


def test_a_link_with_an_end_shows_its_time_left(console):
    """R10.1: the access sheet and Manage Users show until when a link counts and the time left;
    an ended link is on neither."""
    ends = utcnow() + timedelta(hours=2, minutes=30)
    with store.connection():
        directory.put_link("lee@acme.example", "hooli", "support", ends)
        directory.put_link("reggie@acme.example", "hooli", "support", utcnow() - timedelta(seconds=1))
    for path in ("/console/access?customer=hooli", "/console/links?customer=hooli"):
        body = console.get(path).get_data(as_text=True)
        assert re.search(r"lee@acme\.example.*?" + re.escape(f'datetime="{rfc3339(ends)}"') + r'[^>]*>2 h (29|30) min left</time>', body, re.S), path
        assert not re.search(r"<(td|li)>(<a [^>]*>)?reggie@acme\.example", body), path
