"""What an inclusion proof reads (R7.6, issue 19; docs/decisions/039-inclusion-proof-reads.md):
one query, with the tree's state, of about four kept roots a level; migration 12 adds the
levels an older tree did not keep, and a tree without them still proves."""

import pytest

from authz_service import store
from authz_service.log import merkle, tree
from authz_service.store import migrations
from authz_service.store.models import Decision, LogNode, database
from tests.support.log_entries import append, entry


@pytest.fixture
def log(app, database_url, monkeypatch):
    """A fresh database for the log, with 600 entries in four batches."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    for start in range(0, 600, 150):
        append([entry(start + i) for i in range(150)])


def counted(monkeypatch) -> dict:
    """Counts the queries run on the database and the rows they return from now on."""
    seen = {"queries": 0, "rows": 0}
    plain = database.obj.execute_sql

    def execute_sql(sql, params=None, *args):
        cursor = plain(sql, params, *args)
        seen["queries"] += 1
        seen["rows"] += cursor.rowcount if cursor.rowcount and cursor.rowcount > 0 else 0
        return cursor

    monkeypatch.setattr(database.obj, "execute_sql", execute_sql)
    return seen


def proves(seq: int) -> bool:
    size, root = tree.size_and_root()
    index, leaf, proof = tree.inclusion(seq, size)
    return index == seq - 1 and merkle.verify_inclusion(index, size, leaf, proof, root)


def test_an_inclusion_proof_is_one_query_of_a_few_rows(log, monkeypatch):
    with store.connection():
        size, _ = tree.size_and_root()
        tree.inclusion(1, size)  # the tree's base seen once
        for seq in (1, 200, 517, 600):
            seen = counted(monkeypatch)
            index, leaf, proof = tree.inclusion(seq, size)
            monkeypatch.undo()
            assert seen["queries"] == 1, seq
            assert len(proof) <= 10 and proves(seq)
            if database.obj.__class__.__name__ != "SqliteDatabase":  # SQLite tells no row count
                assert seen["rows"] <= 60, (seq, seen)  # its 256-leaf block alone would be 256


def test_a_proof_planned_with_another_base_is_planned_again(log, monkeypatch):
    """The base guessed (the one last seen) is checked against the tree's state read in the same query."""
    with store.connection():
        for guess in (3, 0, 550):
            monkeypatch.setattr(tree, "_base_seen", [guess])
            assert all(proves(seq) for seq in (600, 300, 4, 1)), guess  # 1 reads the base anew


def test_migration_12_keeps_the_new_levels_of_an_older_tree(log):
    with store.connection():
        before = list(LogNode.select().order_by(LogNode.height, LogNode.position).tuples())
        LogNode.delete().where(LogNode.height != 8).execute()  # as the tree stood before
        assert all(proves(seq) for seq in (1, 300, 600))  # proves without them, reading more
        with database.atomic():
            migrations._v12_log_tree_levels(database)
        assert list(LogNode.select().order_by(LogNode.height, LogNode.position).tuples()) == before


def test_migration_12_stops_at_a_missing_leaf(log):
    with store.connection():
        LogNode.delete().where(LogNode.height != 8).execute()
        Decision.delete().where(Decision.seq == 100).execute()
        with database.atomic():
            migrations._v12_log_tree_levels(database)
        kept = list(LogNode.select(LogNode.height, LogNode.position).where(LogNode.height == 4).tuples())
        assert sorted(kept) == [(4, i) for i in range(99 // 16)]
        assert proves(300) and proves(600)  # their paths pass the gap by a kept root of height 8
        with pytest.raises(tree.MissingLeaves):  # as before: the leaf's 16-leaf block is needed whole
            proves(1)
