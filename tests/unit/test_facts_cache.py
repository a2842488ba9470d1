"""The facts cache of `authz serve`'s workers on PostgreSQL stays coherent (R4.6;
docs/decisions/011-facts-cache.md): changes are numbered by a trigger, a change's call
waits for every live holder, raced reads are not kept, and no lease means no cache."""

import threading
import time
from datetime import timedelta

import psycopg
import pytest

from authz_service import store
from authz_service.app import create_app
from authz_service.decide.gather import gather
from authz_service.policy import NONE
from authz_service.store import directory, facts_cache, fixtures, links
from authz_service.store import facts as store_facts
from authz_service.store import keys as store_keys
from authz_service.store.models import utcnow
from tests.support import backends

pytestmark = [pytest.mark.postgres, backends.SHARES_CHECKOUT_VAR,
              pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL")]

KEY = ("lee@acme.example", "hooli")
LINK_GROUP = 4  # the link's group in a facts row


@pytest.fixture
def url():
    """The emptied test PostgreSQL with the demo data, bound for this thread."""
    pg = backends.postgres_url()
    create_app({"database_url": pg, "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
    yield pg
    facts_cache.stop()
    store.close()


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def holder(url):
    """This process keeps facts, as a worker of `authz serve` does; its lease is live."""
    started = facts_cache.start(url)
    assert wait_for(lambda: started.lookup(KEY)[1] is not None), "the holder never got a lease"
    return started


def read(key=KEY):
    with store.connection():
        return store_facts.read(*key)


def sql(url: str, statement: str, params=()):
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def epoch(url: str) -> int:
    return sql(url, "SELECT epoch FROM facts_epoch WHERE id = 1")[0][0]


def test_every_kind_of_change_to_a_watched_table_is_numbered(url):
    """The trigger counts inserts, updates, deletes and truncates of user, account, link and api_key,
    whoever makes them (here: plain SQL, outside the service)."""
    statements = [
        "UPDATE \"account\" SET name = name || '.' WHERE id = 'hooli'",
        "UPDATE \"user\" SET grp = grp WHERE email = 'lee@acme.example'",
        "INSERT INTO \"link\" (user_email, customer_id, grp, linked_at) "
        "VALUES ('lee@acme.example', 'hooli', 'support', now())",
        "DELETE FROM \"link\" WHERE user_email = 'lee@acme.example'",
        "TRUNCATE \"link\"",
        "UPDATE \"api_key\" SET revoked_at = now()",
    ]
    for statement in statements:
        before = epoch(url)
        sql(url, statement)
        assert epoch(url) == before + 1, statement
    before = epoch(url)
    sql(url, "DELETE FROM \"contact\"")  # not a table a decision reads
    assert epoch(url) == before


def test_answers_come_from_memory_until_a_change(holder):
    """A second read is a hit; after the link is made through the store, the next read is
    fresh (the change's call returned only after this holder emptied its cache)."""
    first, source = read()
    assert source == "miss" and first[LINK_GROUP] is None
    assert read() == (first, "hit")
    with store.connection():
        directory.put_link(*KEY, "regular")
    row, source = read()
    assert (row[LINK_GROUP], source) == ("regular", "miss")
    assert read() == (row, "hit")
    with store.connection():
        links.delete_link(*KEY)
    assert read()[0][LINK_GROUP] is None


def test_a_change_waits_for_a_holder_that_has_not_seen_it(url):
    """R4.6: a live holder that has not confirmed the change holds the call back until its
    lease ends; the call never returns while that holder could still answer from memory."""
    sql(url, "INSERT INTO facts_holder (id, seen, lease_until) "
             "VALUES ('silent', 0, extract(epoch FROM clock_timestamp()) + 1.5)")
    with store.connection():
        directory.put_link(*KEY, "regular")
    lease_ended = sql(url, "SELECT lease_until <= extract(epoch FROM clock_timestamp()) "
                           "FROM facts_holder WHERE id = 'silent'")[0][0]
    assert lease_ended, "the change returned while a holder that had not seen it held a lease"


@pytest.fixture
def stuck_holder(url, monkeypatch):
    """A holder that keeps its lease but never confirms anything; changes give up after 0.3 s."""
    monkeypatch.setattr(facts_cache, "BARRIER_SECONDS", 0.3)
    stop = threading.Event()

    def renew():
        while not stop.is_set():
            sql(url, "INSERT INTO facts_holder (id, seen, lease_until) VALUES "
                     "('stuck', 0, extract(epoch FROM clock_timestamp()) + 1) ON CONFLICT (id) "
                     "DO UPDATE SET lease_until = EXCLUDED.lease_until")
            stop.wait(0.1)

    renewing = threading.Thread(target=renew)
    renewing.start()
    yield
    stop.set()
    renewing.join()


def test_a_change_no_holder_confirms_answers_503(url, stuck_holder):
    """The change is stored, and the call says it is not confirmed (503) instead of
    returning as if every server followed it."""
    app = create_app({"database_url": url, "bootstrap_key": "k" * 32, "policy_poll_seconds": 0}, migrate=True)
    response = app.test_client().delete("/v1/customers/initech/links/rita@acme.example?user=ada@acme.example",
                                        headers={"Authorization": "Bearer " + "k" * 32})
    assert response.status_code == 503, response.get_json()
    assert "not every server confirmed it" in response.get_json()["error"]["message"]
    assert not sql(url, "SELECT 1 FROM \"link\" WHERE user_email = 'rita@acme.example' "
                        "AND customer_id = 'initech'")


def test_a_command_whose_change_is_not_confirmed_says_so(url, stuck_holder, monkeypatch):
    """`authz keys revoke` exits 1 with the reason, not a stack trace; the key is revoked."""
    from click.testing import CliRunner

    from authz_service.cli import main

    monkeypatch.setenv("AUTHZ_DATABASE_URL", url)
    sql(url, "INSERT INTO api_key (name, key_hash, scopes, created_at) "
             "VALUES ('svc', %s, 'decide', now())", (store_keys.digest("azk_svc"),))  # plain SQL: no wait
    result = CliRunner().invoke(main, ["keys", "revoke", "svc"])
    assert result.exit_code == 1
    assert "not every server confirmed it within 0.3 s; check the change, then retry" in result.output
    assert "Traceback" not in result.output
    assert sql(url, "SELECT count(*) FROM api_key WHERE name = 'svc' AND revoked_at IS NULL")[0][0] == 0


def test_a_read_that_raced_a_change_is_not_kept(url):
    """A row read before an emptying is not stored after it; one read after it is."""
    one = facts_cache.Holder(url)  # no thread: the test plays the holder's part
    one.valid_until = time.monotonic() + 60
    row, generation = one.lookup(KEY)
    assert row is facts_cache.MISS
    one._empty(7)
    one.store(KEY, ("stale",), generation)
    assert one.lookup(KEY)[0] is facts_cache.MISS
    _, generation = one.lookup(KEY)
    one.store(KEY, ("fresh",), generation)
    assert one.lookup(KEY)[0] == ("fresh",)


def test_no_answers_from_memory_without_a_lease(url):
    """A lapsed lease (the database away, the thread stalled): nothing is read or kept."""
    one = facts_cache.Holder(url)
    one.valid_until = time.monotonic() + 60
    one.store(KEY, ("kept",), one.lookup(KEY)[1])
    assert one.lookup(KEY)[0] == ("kept",)
    one.valid_until = time.monotonic() - 1
    assert one.lookup(KEY) == (facts_cache.MISS, None)


def test_a_change_made_with_sql_reaches_the_cache(holder, url):
    """A change outside the service (no call to wait for) still empties the cache when it
    commits, announced by the trigger."""
    assert read()[1] == "miss" and read()[1] == "hit"
    sql(url, "INSERT INTO \"link\" (user_email, customer_id, grp, linked_at) "
             "VALUES ('lee@acme.example', 'hooli', 'support', now())")
    assert wait_for(lambda: read()[0][LINK_GROUP] == "support")


def test_a_holder_cut_from_the_database_comes_back_coherent(holder, url):
    """Its listening connection killed: a change made meanwhile waits for its new lease (or
    the old one to end), and what it answers afterwards follows the change."""
    assert read()[1] == "miss" and read()[1] == "hit"
    killed = sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                 (facts_cache.APPLICATION,))
    assert killed and all(ok for (ok,) in killed)
    with store.connection():
        directory.put_link(*KEY, "regular")
    assert read()[0][LINK_GROUP] == "regular"
    assert wait_for(lambda: read()[1] == "hit"), "the holder did not come back"
    assert read()[0][LINK_GROUP] == "regular"


def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(url):
    """The pool asks the server about a pooled connection before handing it out
    (docs/decisions/026-pool-and-workers.md): one the server closed after it was given back,
    even a moment ago, is replaced, and the request that takes it is answered, not failed."""
    with store.connection():
        pid = store.database.connection().info.backend_pid
    sql(url, "SELECT pg_terminate_backend(%s)", (pid,))
    assert wait_for(lambda: not sql(url, "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)))
    with store.connection():
        assert store.database.execute_sql("SELECT 1").fetchone() == (1,)
        assert store.database.connection().info.backend_pid != pid


def test_a_kept_key_is_refused_once_its_revocation_returns(holder):
    """A key's row is kept after its first use; revoking it empties every holder first."""
    with store.connection():
        key = store_keys.create("cached", ["decide"])
        assert store_keys.find(key)["name"] == "cached"
        assert ("api_key", store_keys.digest(key)) in holder.entries
        store_keys.revoke("cached")
        assert store_keys.find(key) is None


def test_a_kept_key_still_expires(holder, monkeypatch):
    """Expiry is checked at each use, not when the row was kept."""
    with store.connection():
        key = store_keys.create("short", ["decide"], expires_at=utcnow() + timedelta(hours=1))
        assert store_keys.find(key) is not None
        assert ("api_key", store_keys.digest(key)) in holder.entries
        monkeypatch.setattr(store_keys, "utcnow", lambda: utcnow() + timedelta(hours=2))
        assert store_keys.find(key) is None


def test_unknown_keys_are_not_kept(holder):
    """Guessed keys cannot fill the cache."""
    with store.connection():
        assert store_keys.find("azk_guessed") is None
    assert ("api_key", store_keys.digest("azk_guessed")) not in holder.entries


def test_facts_and_keys_never_share_an_entry(holder):
    """A caller chooses `user` and `account` freely: asking about user "api_key" in an
    account named like a kept key's digest reads facts, never the key's row."""
    with store.connection():
        key = store_keys.create("shared", ["decide"])
        assert store_keys.find(key) is not None
    row, _ = read(("api_key", store_keys.digest(key)))
    assert row == (None,) * 7 or row is None


def test_a_holder_starts_over_when_the_numbers_go_back(holder, url):
    """The database restored under a running holder (its numbering behind what the holder
    has seen): the next change waits until the holder has started over from nothing."""
    assert read()[1] == "miss" and read()[1] == "hit"
    sql(url, "UPDATE facts_epoch SET epoch = 0 WHERE id = 1")  # as a restore of an older dump would
    with store.connection():
        directory.put_link(*KEY, "regular")
    assert holder.epoch == 1, "the change returned before the holder started over"
    assert read()[0][LINK_GROUP] == "regular"


def test_a_connection_lost_after_the_commit_still_says_the_change_is_stored(url, monkeypatch):
    """The connection dies between COMMIT and the holders' check: the call raises
    Unconfirmed (503: the change is stored), not a database error saying nothing changed."""
    check = facts_cache.barrier

    def cut_then_check(db, number):
        sql(url, "SELECT pg_terminate_backend(%s)", (db.connection().info.backend_pid,))
        return check(db, number)

    monkeypatch.setattr(facts_cache, "barrier", cut_then_check)
    with store.connection(), pytest.raises(facts_cache.Unconfirmed):
        directory.put_link(*KEY, "regular")
    assert sql(url, "SELECT grp FROM link WHERE user_email = %s AND customer_id = %s", KEY) == [("regular",)]


def test_the_holders_url_keeps_libpq_options_and_drops_the_pools():
    """The holder connects with AUTHZ_DATABASE_URL's own parameters (spaces included), not the pool's."""
    url = "postgresql://u@db.example:5432/authz?options=-c%20search_path%3Dauthz&sslmode=require&max_connections=8"
    assert facts_cache.libpq_url(url) == ("postgresql://u@db.example:5432/authz?options=-c%20search_path%3Dauthz"
                                          "&sslmode=require")


def test_a_kept_facts_row_does_not_outlive_its_links_end(holder):
    """R10.1, R4.6: a link ending 300 ms ahead, read and kept: after its end the same kept row
    (a cache hit, no change announced) gives no link, as the database would."""
    with store.connection():
        directory.put_link(*KEY, "regular", utcnow() + timedelta(milliseconds=300))
    assert wait_for(lambda: read()[1] == "miss" and read()[1] == "hit")
    with store.connection():
        assert gather(*KEY).facts.link_group == "regular"
    ends = read()[0][-1]
    time.sleep(max(0.0, (ends - utcnow()).total_seconds()) + 0.01)
    with store.connection():
        got = gather(*KEY)
        assert read()[1] == "hit"  # still kept: nothing changed in the database
    assert got.facts.link_group == NONE
