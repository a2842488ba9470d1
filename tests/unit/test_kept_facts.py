"""store/kept_facts.py: on SQLite a thread keeps facts and key rows only while no change to the
tables a decision reads has committed, whoever commits it (R4.6; docs/decisions/048)."""

import sqlite3
import threading

import pytest

from authz_service import store
from authz_service.store import facts, facts_cache, kept_facts
from authz_service.store.models import database

CHANGES = {  # (table, event): a statement an operator might run in the sqlite3 shell
    ("account", "INSERT"): "INSERT INTO account (id, kind, name, partner_id, created_at) "
                           "VALUES ('newco', 'customer', 'New', 'acme', '2026-01-01 00:00:00')",
    ("account", "UPDATE"): "UPDATE account SET kind = 'customer' WHERE id = 'initech'",
    ("account", "DELETE"): "DELETE FROM account WHERE id = 'newco'",
    ("user", "INSERT"): "INSERT INTO user (email, account_id, grp, created_at) "
                        "VALUES ('new@acme.example', 'acme', 'regular', '2026-01-01 00:00:00')",
    ("user", "UPDATE"): "UPDATE user SET grp = 'admin' WHERE email = 'rita@acme.example'",
    ("user", "DELETE"): "DELETE FROM user WHERE email = 'new@acme.example'",
    ("link", "INSERT"): "INSERT INTO link (user_email, customer_id, grp, linked_at) "
                        "VALUES ('ada@acme.example', 'initech', 'regular', '2026-01-01 00:00:00')",
    ("link", "UPDATE"): "UPDATE link SET grp = 'admin' WHERE user_email = 'rita@acme.example'",
    ("link", "DELETE"): "DELETE FROM link WHERE user_email = 'rita@acme.example'",
    ("api_key", "INSERT"): "INSERT INTO api_key (name, key_hash, scopes, created_at) "
                           "VALUES ('k', 'h', 'decide', '2026-01-01 00:00:00')",
    ("api_key", "UPDATE"): "UPDATE api_key SET revoked_at = '2026-01-02 00:00:00'",
    ("api_key", "DELETE"): "DELETE FROM api_key",
}


@pytest.fixture
def sqlite_path(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own: PostgreSQL keeps facts in the holder (tests/unit/test_facts_cache.py)")
    return database_url.removeprefix("sqlite:///")


def operator(path: str, sql: str) -> None:
    """A statement committed on a connection of its own, outside the service."""
    with sqlite3.connect(path) as other:
        other.execute(sql)
    other.close()


def rita() -> tuple:
    return facts.read("rita@acme.example", "initech")


def test_watched_tables_are_facts_caches_and_each_has_its_triggers(sqlite_path):
    assert kept_facts.WATCHED == facts_cache.WATCHED
    with sqlite3.connect(sqlite_path) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {kept_facts.trigger_name(t, e) for t in kept_facts.WATCHED for e in kept_facts.EVENTS} <= names


def test_a_row_is_kept_until_a_change_commits(sqlite_path):
    with store.connection():
        first = rita()
        assert first[1] == "miss" and rita() == (first[0], "hit")
        operator(sqlite_path, CHANGES[("link", "UPDATE")])
        changed = rita()
        assert changed[1] == "miss" and changed[0] != first[0] and changed[0][4] == "admin"


@pytest.mark.parametrize(("table", "event"), sorted(CHANGES))
def test_every_change_to_a_watched_table_empties_what_threads_keep(sqlite_path, table, event):
    """Each table and kind of change, by a connection outside the service: the next read asks
    the database again."""
    with store.connection():
        if event != "INSERT":  # a row to change or delete: the insert of the same table first
            operator(sqlite_path, CHANGES[(table, "INSERT")])
        rita()
        assert rita()[1] == "hit"
        operator(sqlite_path, CHANGES[(table, event)])
        assert rita()[1] == "miss"


def test_a_change_in_another_thread_is_seen_at_once(sqlite_path):
    with store.connection():
        assert rita()[1] in ("miss", "hit") and rita()[1] == "hit"

        def demote():
            with store.connection():
                store.database.execute_sql("UPDATE link SET grp = 'viewer' WHERE user_email = 'rita@acme.example'")

        other = threading.Thread(target=demote)
        other.start()
        other.join()
        row, source = rita()
        assert (row[4], source) == ("viewer", "miss")


def test_nothing_is_kept_inside_a_transaction_or_without_the_epoch_row(sqlite_path):
    with store.connection():
        with database.atomic():
            assert rita()[1] == "off" and rita()[1] == "off"
        operator(sqlite_path, "DELETE FROM facts_epoch")
        assert rita()[1] == "off" and rita()[1] == "off"  # no change would show: fail closed


def test_a_thread_keeps_at_most_max_kept_rows(sqlite_path, monkeypatch):
    monkeypatch.setattr(kept_facts, "MAX_KEPT", 3)
    with store.connection():
        for n in range(3):
            facts.read(f"u{n}@x.example", "initech")
        assert rita()[1] == "miss"  # the fourth started over
        assert facts.read("u0@x.example", "initech")[1] == "miss"


def _epoch_reads() -> list[str]:
    """The epoch reads this thread's connection makes from now on (a trace of its statements)."""
    seen: list[str] = []
    store.database.connection().set_trace_callback(lambda sql: seen.append(sql) if "facts_epoch" in sql else None)
    return seen


def test_one_read_reads_the_epoch_once_then_each_use_again(sqlite_path):
    """A decision request (api/fast.py) reads the epoch once, at its first read; after it, every
    use reads it again, so the next request sees a change committed during this one."""
    with store.connection():
        rita()
        seen = _epoch_reads()
        with kept_facts.one_read():
            first = rita()
            operator(sqlite_path, CHANGES[("link", "UPDATE")])
            assert rita() == (first[0], "hit")  # overlapped the change: answered as of its start
            facts.read("ada@acme.example", "initech")
        assert len(seen) == 1
        changed = rita()
        assert len(seen) == 2 and changed[1] == "miss" and changed[0][4] == "admin"


def test_one_read_without_the_epoch_row_keeps_nothing(sqlite_path):
    """Fail closed inside one_read too: no epoch row, every use reads, nothing is kept."""
    with store.connection():
        assert rita()[1] in ("miss", "hit")  # kept under the epoch, before the row goes
        operator(sqlite_path, "DELETE FROM facts_epoch")
        seen = _epoch_reads()
        with kept_facts.one_read():
            assert rita()[1] == "off" and rita()[1] == "off"
        assert len(seen) == 2


def test_a_one_read_inside_another_is_part_of_it(sqlite_path):
    """A worker's turn (serving/inline.py) holds one one_read around the requests the poll
    reported, each with its own inside: the epoch is read once for the turn. After the turn, the
    next use reads it again and sees a change committed during the turn (R4.6)."""
    with store.connection():
        rita()
        seen = _epoch_reads()
        with kept_facts.one_read():
            for _ in range(3):
                with kept_facts.one_read():
                    assert rita()[1] == "hit"
            operator(sqlite_path, CHANGES[("link", "UPDATE")])
            with kept_facts.one_read():
                assert rita()[1] == "hit"  # sent before the turn's first read: as of it
        assert len(seen) == 1
        changed = rita()
        assert len(seen) == 2 and changed[1] == "miss" and changed[0][4] == "admin"
