"""Console previews ("see as", "why", Manage Users opened as someone) are not the previewed
user's activity (R7.5): no entry under their name, no last activity; a partner switch
re-checks the chosen user (issue 16 class 9)."""

import pytest

from tests.support.console import entries, last_activity, make_key, sign_in

PREVIEWS = [
    ("/console/customers?partner=acme&viewer=rita@acme.example", "rita@acme.example"),
    ("/console/customers?partner=acme&viewer=lee@acme.example", "lee@acme.example"),  # sees none
    ("/console/links?customer=initech&actor=ada@acme.example", "ada@acme.example"),
    ("/console/links?customer=initech&actor=reggie@acme.example", "reggie@acme.example"),  # refused
    ("/console/why?user=ian@initech.example&action=port.create&account=initech", "ian@initech.example"),
    ("/console/why?user=iris@initech.example&action=port.create&account=initech", "iris@initech.example"),
]


@pytest.fixture
def console(client):
    """A client signed in with an audit key."""
    assert sign_in(client, make_key("auditor", ["audit"])).status_code == 302
    return client


@pytest.mark.parametrize("path, previewed", PREVIEWS, ids=[p[0].split("?")[0] + ":" + p[1] for p in PREVIEWS])
def test_a_preview_is_not_recorded_as_the_previewed_user(console, path, previewed):
    """Nothing is stored under the previewed user's name, nor anything at all."""
    stored = len(entries())
    response = console.get(path)
    assert response.status_code == 200
    assert entries(user_email=previewed) == []
    assert len(entries()) == stored


def test_a_preview_of_a_customers_own_user_is_not_their_last_activity(console):
    """R5.6/R7.5: "why" for Initech's own admin on Initech leaves its last activity as it was."""
    before = last_activity("initech")
    console.get("/console/why?user=ian@initech.example&action=port.view&account=initech")
    console.get("/console/customers?partner=acme&viewer=ian@initech.example")
    assert last_activity("initech") == before


def test_see_as_shows_what_the_user_would_see(console):
    """The preview still answers: rita sees Initech and Umbrella, not Hooli (R4.2)."""
    body = console.get("/console/customers?partner=acme&viewer=rita@acme.example").get_data(as_text=True)
    assert "Initech" in body and "Umbrella" in body and "Hooli" not in body


def test_a_refused_preview_says_it_was_not_recorded(console):
    """A non-admin opening Manage Users is refused by the policy, shown as an unrecorded preview."""
    body = console.get("/console/links?customer=initech&actor=reggie@acme.example").get_data(as_text=True)
    assert "Refused:" in body and "preview, not recorded" in body


@pytest.mark.parametrize("path", [
    "/console/customers?partner=globex&viewer=rita@acme.example",  # acme's user, partner switched
    "/console/customers?partner=acme&viewer=gina@globex.example",
    "/console/customers?partner=acme&viewer=ian@initech.example",  # a customer's user
    "/console/links?customer=soylent&actor=ada@acme.example",  # acme's admin on globex's customer
    "/console/links?customer=initech&actor=gina@globex.example",
])
def test_switching_partner_re_checks_the_chosen_user(console, path):
    """The previously chosen user of another partner is never evaluated: the page says to choose
    one of the new partner's users and shows no rows or links."""
    response = console.get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "is not a user of partner" in body
    assert "<table" not in body


def test_the_new_partners_user_is_evaluated_after_a_switch(console):
    """After the switch, a user of the new partner is previewed (gus sees Soylent)."""
    body = console.get("/console/customers?partner=globex&viewer=gus@globex.example").get_data(as_text=True)
    assert "Soylent" in body and "is not a user of partner" not in body


HOSTILE = ["x" * 10_000, "a\u200bb@acme.example", "\u0130@acme.example", "<script>alert(1)</script>",
           "%", "-name", "../../etc/passwd", "ada@acme.example" + " " * 300]
PAGES = {"/console/why": ("user", "action", "account", "session"),
         "/console/customers": ("partner", "viewer", "sort", "hide_inactive", "cursor"),
         "/console/links": ("customer", "actor"),
         "/console/activity": ("account", "user", "action", "allowed", "cursor", "verify")}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_hostile_query_values_never_answer_500_nor_record(console, path):
    """Every parameter of every console page with hostile values: a page or a refusal, never a
    500, never a script echoed unescaped, and nothing recorded."""
    stored = len(entries())
    base = {"user": "rita@acme.example", "action": "port.view", "account": "initech",
            "partner": "acme", "viewer": "rita@acme.example", "customer": "initech",
            "actor": "ada@acme.example"}
    for name in PAGES[path]:
        for value in HOSTILE:
            response = console.get(path, query_string={**base, name: value})
            assert response.status_code in (200, 400, 404, 422), (name, value, response.status_code)
            assert "<script>alert" not in response.get_data(as_text=True)
    assert len(entries()) == stored
