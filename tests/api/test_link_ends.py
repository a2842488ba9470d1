"""Links with an end (R10.1), over HTTP: PUT takes `expires_at`, a link past its end counts
nowhere, and the sweeper records each end once in the partner's log (R7.2)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from authz_service import store
from authz_service.log import chain
from authz_service.portal import link_ends
from authz_service.store.models import Decision, Link, to_micros, utcnow
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store

LEE, HOOLI = "lee@acme.example", "hooli"


def put_link(client, email=LEE, customer=HOOLI, user="ada@acme.example", **body):
    return client.put(f"/v1/customers/{customer}/links/{email}", json={"user": user, **body}, headers=bearer())


def rfc(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def link_row(email=LEE, customer=HOOLI):
    with store.connection():
        return Link.get_or_none((Link.user == email) & (Link.customer == customer))


def end_now(email=LEE, customer=HOOLI, ago=timedelta(milliseconds=1)) -> None:
    """Move a link's end just into the past, as time passing would."""
    with store.connection():
        Link.update(expires_at=utcnow() - ago).where((Link.user == email) & (Link.customer == customer)).execute()


def listed(client, path: str) -> list[dict]:
    response = client.get(path, query_string={"user": "ada@acme.example"}, headers=bearer())
    assert response.status_code == 200, response.json
    return response.json["items"]


def ends_recorded(email=LEE, customer=HOOLI) -> list:
    with synced_store():
        return list(Decision.select().where((Decision.rule == "R10.1 link ended")
                                            & (Decision.resource_id == f"{customer}/{email}")))


def test_a_link_with_an_end_carries_it_everywhere(client, api):
    """R10.1, R10.3: PUT with expires_at is 201; the link, links list and access sheet carry the end."""
    ends = utcnow() + timedelta(hours=2)
    response = put_link(client, expires_at=rfc(ends))
    assert response.status_code == 201, response.json
    assert response.json["expires_at"] == rfc(ends)
    assert api.allowed(LEE, "port.edit", HOOLI)
    assert {i["email"]: i["expires_at"] for i in listed(client, f"/v1/customers/{HOOLI}/links")}[LEE] == rfc(ends)
    access = {i["email"]: i for i in listed(client, f"/v1/customers/{HOOLI}/access")}
    assert access[LEE]["via"] == "link" and access[LEE]["expires_at"] == rfc(ends)


def test_without_expires_at_an_end_is_kept_and_null_removes_it(client):
    """R10.1: left out, an existing link keeps its end; null removes it; a new link has none."""
    ends = rfc(utcnow() + timedelta(days=3))
    assert put_link(client).json["expires_at"] is None
    assert put_link(client, expires_at=ends).json["expires_at"] == ends
    assert put_link(client, group="regular").json["expires_at"] == ends
    response = put_link(client, expires_at=None)
    assert response.status_code == 200 and response.json["expires_at"] is None
    assert link_row().expires_at is None


@pytest.mark.parametrize("value", [
    rfc(datetime.now(UTC) - timedelta(seconds=1)),  # past
    rfc(datetime.now(UTC) + timedelta(days=367)),  # more than a year ahead
    "2026-13-01T00:00:00Z", "tomorrow", "2030-01-01T00:00:00",  # malformed, no offset
    "9999-12-31T23:59:59-23:59",  # out of range once in UTC
], ids=["past", "over-a-year", "month-13", "tomorrow", "no-offset", "out-of-range"])  # the same names on every xdist worker
def test_a_past_far_or_malformed_end_is_422_and_changes_nothing(client, value):
    """R10.1: an end that is past, more than a year ahead or not an RFC 3339 time: 422, nothing changed."""
    assert put_link(client, group="regular").status_code == 201
    response = put_link(client, group="read_only", expires_at=value)
    assert_error(response, 422, "invalid")
    row = link_row()
    assert (row.group, row.expires_at) == ("regular", None)


def test_an_end_that_is_not_a_string_is_400(client):
    """A wrong JSON type is malformed (400), as for every field."""
    assert_error(put_link(client, expires_at=1893456000), 400, "malformed")
    assert link_row() is None


def test_a_link_past_its_end_is_no_link(client, api):
    """R10.1: from its end on, the link counts nowhere (decisions, lists, accounts), exactly as a
    revoke; its user is linkable again and a DELETE of it is 404."""
    assert put_link(client, group="regular", expires_at=rfc(utcnow() + timedelta(hours=1))).status_code == 201
    assert api.allowed(LEE, "port.create", HOOLI)
    end_now()
    decision = api.authorize(LEE, "port.create", HOOLI).json
    assert (decision["allowed"], decision["group"]) == (False, None)
    assert LEE not in [i["email"] for i in listed(client, f"/v1/customers/{HOOLI}/links")]
    assert LEE not in [i["email"] for i in listed(client, f"/v1/customers/{HOOLI}/access")]
    assert LEE in [i["email"] for i in listed(client, f"/v1/customers/{HOOLI}/linkable-users")]
    accounts = client.post("/v1/authorize/accounts", json={"user": LEE, "action": "account.view"}, headers=bearer())
    assert HOOLI not in accounts.json["items"]
    response = client.delete(f"/v1/customers/{HOOLI}/links/{LEE}", query_string={"user": "ada@acme.example"},
                             headers=bearer())
    assert_error(response, 404, "not_found")


def test_the_sweeper_records_each_end_once_in_the_partners_log(client):
    """R10.1, R7.2: an ended link is removed and its end recorded once, in the partner's log;
    sweeping again records nothing more; a link still running is left alone."""
    assert put_link(client, expires_at=rfc(utcnow() + timedelta(hours=1))).status_code == 201
    assert put_link(client, email="rita@acme.example", expires_at=rfc(utcnow() + timedelta(hours=1))).status_code == 201
    end_now()
    with store.connection():
        assert link_ends.sweep() == 1
        assert link_ends.sweep() == 0
    assert link_row() is None and link_row("rita@acme.example") is not None
    (entry,) = ends_recorded()
    assert (entry.log_account, entry.action, entry.allowed, entry.group) == ("acme", "grant.manage", True, "support")
    assert "ended at" in entry.reason


def test_concurrent_sweepers_record_each_end_once(client):
    """R10.1: sweepers in several workers at once: every end recorded exactly once."""
    emails = ["lee@acme.example", "rita@acme.example", "reggie@acme.example", "sam@acme.example"]
    for email in emails:
        assert put_link(client, email=email, expires_at=rfc(utcnow() + timedelta(hours=1))).status_code in (200, 201)
        end_now(email)
    start = threading.Barrier(4)
    counts, errors = [], []

    def sweeper():
        try:
            with store.connection():
                start.wait()
                counts.append(link_ends.sweep())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            store.release()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sum(counts) == len(emails)
    for email in emails:
        assert len(ends_recorded(email)) == 1 and link_row(email) is None


def test_a_sweeper_that_died_after_its_claim_is_finished_by_another(client):
    """R10.1: a claim older than STALE_CLAIM whose entry is missing: the end is recorded once;
    one whose entry was stored: only the row is removed (no second entry)."""
    for email in (LEE, "rita@acme.example"):
        assert put_link(client, email=email, expires_at=rfc(utcnow() + timedelta(hours=1))).status_code in (200, 201)
        end_now(email)
    old_ms = to_micros(utcnow() - link_ends.STALE_CLAIM - timedelta(seconds=5)) // 1000
    lost, kept = f"{old_ms:012x}" + "a" * 20, f"{old_ms:012x}" + "b" * 20
    with store.connection():
        Link.update(end_entry=lost).where(Link.user == LEE).execute()
        Link.update(end_entry=kept).where(Link.user == "rita@acme.example").execute()
        link = link_ends.link_ends.due(utcnow(), 10, "rita@acme.example", HOOLI)[0]
    chain.append([link_ends._entry(link, kept)])
    with store.connection():
        assert link_ends.sweep() == 1
    assert len(ends_recorded()) == 1 and len(ends_recorded("rita@acme.example")) == 1
    assert link_row() is None and link_row("rita@acme.example") is None


def test_a_fresh_claim_is_left_to_its_sweeper(client):
    """R10.1: a claim made moments ago belongs to a sweeper still at work: not recorded again."""
    assert put_link(client, expires_at=rfc(utcnow() + timedelta(hours=1))).status_code == 201
    end_now()
    with store.connection():
        Link.update(end_entry=chain.new_id()).where(Link.user == LEE).execute()
        assert link_ends.sweep() == 0
    assert ends_recorded() == [] and link_row() is not None


def test_a_put_on_an_ended_link_records_its_end_and_makes_a_new_link(client):
    """R10.1: the ended link is no link: a PUT makes a new one (201, default group, no end unless
    given), after recording the old end once."""
    assert put_link(client, group="regular", expires_at=rfc(utcnow() + timedelta(hours=1))).status_code == 201
    end_now()
    response = put_link(client)
    assert response.status_code == 201, response.json
    assert (response.json["group"], response.json["expires_at"]) == ("support", None)
    assert len(ends_recorded()) == 1
    with store.connection():
        assert link_ends.sweep() == 0
    assert link_row() is not None


def test_a_new_end_given_while_a_sweeper_holds_the_old_one_keeps_the_link(client):
    """R10.1: a PUT with a new end clears the sweeper's claim; the sweeper records the old end
    and leaves the renewed link alone."""
    assert put_link(client, expires_at=rfc(utcnow() + timedelta(hours=1))).status_code == 201
    end_now()
    with store.connection():
        (link,) = link_ends.link_ends.due(utcnow(), 10)
        (won,) = link_ends.link_ends.claim([(link, chain.new_id())], utcnow())
    with store.connection():  # the PUT lands between the claim and the removal
        Link.update(expires_at=utcnow() + timedelta(hours=1), end_entry=None).where(Link.user == LEE).execute()
        chain.append([link_ends._entry(*won)])
        assert link_ends.link_ends.remove([won], utcnow()) == 0
    assert link_row() is not None and link_row().end_entry is None
