"""R4 through POST /v1/authorize: who holds which group where, table-driven."""

from datetime import timedelta

import pytest

from authz_service import store
from authz_service.store.models import Link, User, ViewSession, utcnow

# (rule, user, action, account, allowed, group)
ROWS = [
    ("R4.1", "ada@acme.example", "port.delete", "initech", True, "admin"),
    ("R4.1", "ada@acme.example", "user.manage", "umbrella", True, "admin"),
    ("R4.1", "ada@acme.example", "billing.view", "hooli", True, "admin"),
    ("R4.2", "lee@acme.example", "port.view", "initech", False, None),
    ("R4.2", "lee@acme.example", "account.view", "hooli", False, None),
    ("R4.2", "sam@acme.example", "port.edit", "initech", True, "support"),
    ("R4.2", "sam@acme.example", "port.create", "initech", False, "support"),
    ("R4.2", "sam@acme.example", "port.view", "umbrella", False, None),
    ("R4.3", "rita@acme.example", "port.create", "acme", False, "read_only"),
    ("R4.3", "rita@acme.example", "port.create", "initech", True, "regular"),
    ("R4.3", "rita@acme.example", "billing.view", "initech", True, "regular"),
    ("R4.3", "rita@acme.example", "port.edit", "umbrella", True, "support"),
    ("R4.3", "rita@acme.example", "billing.view", "umbrella", False, "support"),
    ("R4.3", "reggie@acme.example", "port.create", "acme", True, "regular"),
    ("R4.3", "reggie@acme.example", "port.create", "umbrella", False, "read_only"),
    ("R4.7", "ian@initech.example", "port.create", "initech", True, "admin"),
    ("R4.7", "ian@initech.example", "customer.list", "acme", False, None),
    ("R4.7", "ian@initech.example", "port.view", "umbrella", False, None),
    ("R4.7", "ivy@initech.example", "port.view", "acme", False, None),
    ("R4.8", "gina@globex.example", "port.view", "initech", False, None),
    ("R4.8", "gina@globex.example", "customer.list", "acme", False, None),
    ("R4.8", "ada@acme.example", "port.view", "soylent", False, None),
    ("R4.8", "ada@acme.example", "customer.list", "globex", False, None),
    ("R4.8", "gus@globex.example", "port.create", "soylent", True, "regular"),
]


@pytest.mark.parametrize(("rule", "user", "action", "account", "allowed", "group"), ROWS,
                         ids=[f"{r[0]}-{r[1].split('@')[0]}-{r[2]}-{r[3]}" for r in ROWS])
def test_scoping(api, rule, user, action, account, allowed, group):
    """R4.1-R4.3, R4.7, R4.8: the decision and the group reported, per row."""
    response = api.authorize(user, action, account)
    assert response.status_code == 200
    assert response.json["allowed"] is allowed
    assert response.json["group"] == group
    assert response.json["rule"].startswith("policies/")


def test_user_names_match_case_insensitively(api):
    """R2.2: Ada@ACME.example is ada@acme.example."""
    assert api.allowed("Ada@ACME.example", "port.delete", "initech")


def test_unknown_user_or_account_is_a_denial(api):
    """docs/api.md: an unknown user or account inside an authorize body is a denial, not an error."""
    for user, account in [("nobody@acme.example", "initech"), ("ada@acme.example", "nowhere")]:
        body = api.authorize(user, "port.view", account).json
        assert body["allowed"] is False and body["group"] is None
        assert body["decision_id"]


def test_a_new_link_and_a_revoked_link_take_effect_at_once(api):
    """R4.2, R4.6: lee is linked as regular, then the link goes; the next decision follows."""
    assert not api.allowed("lee@acme.example", "port.create", "hooli")
    with store.connection():
        Link.create(user="lee@acme.example", customer="hooli", group="regular")
    assert api.allowed("lee@acme.example", "port.create", "hooli")
    with store.connection():
        Link.delete().where(Link.user == "lee@acme.example").execute()
    assert not api.allowed("lee@acme.example", "port.create", "hooli")


def test_a_linked_user_made_admin_acts_as_admin_and_back(api):
    """R4.9: made partner admin, rita acts as admin on umbrella; made read_only again, her link applies."""
    with store.connection():
        User.update(group="admin").where(User.email == "rita@acme.example").execute()
    assert api.authorize("rita@acme.example", "user.manage", "umbrella").json["group"] == "admin"
    with store.connection():
        User.update(group="read_only").where(User.email == "rita@acme.example").execute()
    assert api.authorize("rita@acme.example", "user.manage", "umbrella").json["group"] == "support"


@pytest.fixture
def session(app):
    """A live view session of rita's, bound to initech (R6.1)."""
    with store.connection():
        ViewSession.create(id="s-rita", user_email="rita@acme.example", customer_id="initech",
                           expires_at=utcnow() + timedelta(hours=1))
    return "s-rita"


def test_session_uses_the_bound_customer(api, session):
    """R6.2: with a session and no account, the bound customer is decided, with rita's group there."""
    body = api.authorize("rita@acme.example", "port.create", session=session).json
    assert body["allowed"] is True and body["group"] == "regular"


def test_session_refuses_another_account(api, session):
    """R6.2: through the session, a decision about any other account is denied."""
    for account in ("umbrella", "acme"):
        body = api.authorize("rita@acme.example", "port.view", account, session=session).json
        assert body["allowed"] is False
        assert "R6.2" in body["reason"]


def test_session_of_someone_else_or_expired_is_refused(api, session):
    """R6.2: a session used by another user, an expired one, or an unknown one is a denial."""
    assert not api.allowed("ada@acme.example", "port.view", "initech", session=session)
    assert not api.allowed("rita@acme.example", "port.view", "initech", session="no-such-session")
    with store.connection():
        ViewSession.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert not api.allowed("rita@acme.example", "port.view", "initech", session=session)


def test_session_follows_a_revoked_link(api, session):
    """R6.3: once the link is revoked, the next decision through the session is denied."""
    assert api.allowed("rita@acme.example", "port.view", None, session=session)
    with store.connection():
        Link.delete().where((Link.user == "rita@acme.example") & (Link.customer == "initech")).execute()
    assert not api.allowed("rita@acme.example", "port.view", None, session=session)
