"""No value can stop the log (R7.4; docs/decisions/013-log-values.md): every field of a
decision-log entry, at and past its column's limit and with hostile text, on SQLite and
PostgreSQL: the entry is stored, shortened with a visible mark and marked `altered` where it
had to be, and the chain verifies."""

import pytest

from authz_service import store
from authz_service.log import audit, chain, values
from authz_service.store.models import Decision
from tests.support.auth import bearer

MARK = values.MARK
FIELDS = sorted(values.LIMITS)  # every text field of an entry, with its column's limit
BASE = {"user_email": "ada@acme.example", "account_id": "initech", "log_account": "initech",
        "action": "port.view", "resource_type": "port", "resource_id": "p-1", "allowed": False,
        "group": None, "rule": "default:deny", "reason": "no rule allows it", "session_id": None,
        "caller": "test", "on_behalf_of_partner": None}
HOSTILE = {
    "nul": ("a\x00b", "a\ufffdb", True),
    "lone surrogate": ("a\ud800b\udfff", "a\ufffdb\ufffd", True),
    "format characters": ("a\u200bb\u202ec\u2066", "a\u200bb\u202ec\u2066", False),  # stored as sent
    "astral": ("\U0001f600" * 3, "\U0001f600" * 3, False),
    "newline and quote": ('a\n"b"\\', 'a\n"b"\\', False),
}


def _store(entry: dict) -> dict:
    """Append one entry through the log's own path; the stored row, read back."""
    with store.connection():
        (decision_id,) = chain.append([{**BASE, **entry}])
        row = Decision.select().where(Decision.id == decision_id).dicts().first()
        assert audit.verify().problem is None
    assert row is not None
    return row


@pytest.mark.parametrize("field", FIELDS)
def test_a_value_at_its_columns_limit_is_stored_as_sent(app, field):
    limit = values.LIMITS[field]
    value = "x" * (limit - 1) + "\U0001f600"  # counted in characters, as both stores do
    row = _store({field: value})
    assert row[field] == value and row["altered"] is False


@pytest.mark.parametrize("size", [1, 10_000])
@pytest.mark.parametrize("field", FIELDS)
def test_a_value_past_its_columns_limit_is_cut_marked_and_altered(app, field, size):
    limit = values.LIMITS[field]
    row = _store({field: "y" * (limit + size)})
    assert row[field] == "y" * (limit - len(MARK)) + MARK
    assert len(row[field]) == limit and row["altered"] is True


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("field", FIELDS)
def test_hostile_text_in_any_field_is_stored(app, field, kind):
    sent, stored, altered = HOSTILE[kind]
    row = _store({field: sent})
    assert row[field] == stored and row["altered"] is altered


def test_hostile_and_long_together_still_fit(app):
    """A NUL near the end of a value past its limit: cleaned, then cut; every field at once."""
    row = _store({f: ("z" * (values.LIMITS[f] + 5)) + "\x00\ud800" for f in FIELDS})
    assert all(len(row[f]) == values.LIMITS[f] and row[f].endswith(MARK) for f in FIELDS)
    assert row["altered"] is True


def test_altered_is_covered_by_the_hash(app):
    """Clearing `altered` on a stored entry is detected like any other change (R7.4)."""
    row = _store({"resource_id": "w" * 500})
    with store.connection():
        store.database.execute_sql('UPDATE "decision" SET "altered" = %s WHERE "id" = %s'.replace(
            "%s", store.database.param), (False, row["id"]))
        verdict = audit.verify()
    assert verdict.problem and verdict.bad_id == row["id"]


@pytest.mark.parametrize("field, value", [
    ("user", "ada\x00@acme.example"), ("user", "ada\ud800@acme.example"),
    ("account", "initech\x00"), ("account", "initech\udc00"), ("session", "s\x00"),
    ("session", "s\ud800"),
])
def test_an_id_a_decision_is_about_that_cannot_be_stored_is_422(client, field, value):
    """User, account, session: never altered, refused before deciding (R7.4), nothing recorded.
    (At the JSON edge a lone surrogate may be refused earlier: still a 4xx in the contract's shape.)"""
    body = {"user": "ada@acme.example", "action": "port.view", "account": "initech", field: value}
    with store.connection():
        before = store.database.execute_sql('SELECT count(*) FROM "decision"').fetchone()[0]
    response = client.post("/v1/authorize", json=body, headers=bearer())
    assert response.status_code in (400, 422), response.get_data()[:300]
    assert response.get_json()["error"]["code"]
    with store.connection():
        assert store.database.execute_sql('SELECT count(*) FROM "decision"').fetchone()[0] == before


def test_a_link_target_built_from_a_long_email_is_stored_altered(client):
    """The service's own target `customer/email` (up to 64 + 1 + 254 characters) fits its column."""
    email = "q" * 240 + "@acme.example"
    assert client.put(f"/v1/partners/acme/users/{email}", json={"group": "regular"},
                      headers=bearer()).status_code in (200, 201)
    response = client.put(f"/v1/customers/initech/links/{email}", json={"user": "ada@acme.example"},
                          headers=bearer())
    assert response.status_code == 201, response.get_json()
    items = client.get("/v1/decisions?action=grant.manage&limit=5", headers=bearer()).get_json()["items"]
    target = items[0]["resource"]["id"]
    assert items[0]["altered"] is True and target.startswith("initech/qqq") and target.endswith(MARK)
    assert len(target) == values.LIMITS["resource_id"]
    with store.connection():
        assert audit.verify().problem is None
