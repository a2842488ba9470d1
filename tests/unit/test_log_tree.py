"""The Merkle tree kept with the log (R7.6): every stored entry's leaf and the tree's edge,
written in the chain's lock by every append, and migration 7's leaves for older entries."""

import threading

import pytest

from authz_service import store
from authz_service.log import merkle, tree
from authz_service.store import log_tree, migrations
from authz_service.store.entry_form import content
from authz_service.store.models import Decision, LogNode, LogTree, database
from tests.support.log_entries import append, entry


@pytest.fixture
def log(app, database_url, monkeypatch):
    """A fresh database for the log."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)


def stored() -> list[dict]:
    with store.connection():
        return list(Decision.select().order_by(Decision.seq).dicts())


def assert_tree_matches_entries() -> None:
    rows = stored()
    leaves = [merkle.leaf_hash(content(r)) for r in rows]
    assert [r["leaf_hash"] for r in rows] == [h.hex() for h in leaves]
    assert [r["leaf_index"] for r in rows] == [r["seq"] - 1 for r in rows]
    with store.connection():
        size, root = tree.size_and_root()
        assert tree.root_at(size) == root
    assert (size, root) == (len(rows), merkle.root(leaves))


def test_every_append_adds_its_leaves_and_moves_the_edge(log):
    for n in range(1, 6):
        append([entry(n * 10 + i) for i in range(n)])
        assert_tree_matches_entries()


def test_concurrent_appends_make_one_tree(log):
    threads = [threading.Thread(target=lambda k=k: [append([entry(k * 100 + i)]) for i in range(10)])
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stored()) == 40
    assert_tree_matches_entries()


def test_migration_6_computes_the_leaves_of_older_entries_in_order(log):
    append([entry(i) for i in range(7)])
    with store.connection():
        Decision.update(leaf_index=None, leaf_hash=None).execute()
        LogTree.delete().execute()
        with database.atomic():
            migrations._v7_log_tree(database)
    append([entry(9)])  # the first append after it rebuilds the edge from those leaves
    assert len(stored()) == 8
    assert_tree_matches_entries()


def test_an_edge_that_does_not_end_at_the_chain_is_rebuilt(log):
    append([entry(i) for i in range(5)])
    with store.connection():
        log_tree.save(2, [])  # a wrong edge: the next batch must not build on it
    append([entry(6)])
    assert_tree_matches_entries()


def test_a_damaged_tree_never_stops_the_log(log):
    """Leaves deleted behind the writer's back and an edge edited by hand: entries are still
    stored (R7.4); the checkpoints, not this state, show the damage (tests/reliability/test_log_tamper.py)."""
    append([entry(i) for i in range(5)])
    with store.connection():
        database.execute_sql('DELETE FROM "decision" WHERE "seq" = 2')
        LogTree.update(frontier="zz").execute()
    append([entry(7)])
    assert len(stored()) == 5


def test_complete_subtrees_are_kept_and_proofs_use_them(log):
    for start in range(0, 600, 150):
        append([entry(start + i) for i in range(150)])
    leaves = [merkle.leaf_hash(content(r)) for r in stored()]
    with store.connection():
        kept = list(LogNode.select().order_by(LogNode.height, LogNode.position).tuples())
        assert [(h, p) for h, p, _ in kept] == [(4, i) for i in range(600 // 16)] + [(8, 0), (8, 1)]
        assert [bytes.fromhex(node) for _, _, node in kept] == \
            [merkle.root(leaves[i * 16:i * 16 + 16]) for i in range(600 // 16)] + \
            [merkle.root(leaves[:256]), merkle.root(leaves[256:512])]
        size, root = tree.size_and_root()
        for seq in (1, 256, 300, 600):
            index, leaf, proof = tree.inclusion(seq, size)
            assert merkle.verify_inclusion(index, size, leaf, proof, root)
        assert merkle.verify_consistency(512, size, merkle.root(leaves[:512]), root, tree.consistency(512, size))
        LogNode.update(hash="00" * 32).execute()  # kept roots edited: proofs stop verifying
        index, leaf, proof = tree.inclusion(600, size)
        assert not merkle.verify_inclusion(index, size, leaf, proof, root)
