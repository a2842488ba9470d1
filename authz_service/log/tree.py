"""The log's Merkle tree kept by whoever stores entries (R7.6; docs/decisions/030-signed-checkpoints.md):
the right edge read and saved in the chain's lock, roots and proofs read from the stored leaves."""

import logging
from collections.abc import Sequence

from authz_service.log import merkle
from authz_service.store import log_tree
from authz_service.store.log_tree import MissingLeaves

log = logging.getLogger("authz.log_tree")
__all__ = ["MissingLeaves", "consistency", "edge_at", "inclusion", "root_at", "save", "size_and_root"]


def edge_at(seq: int) -> tuple[merkle.Frontier, int]:
    """(the tree's right edge after entry `seq`, base); inside the chain's lock. An edge that
    does not end at `seq` (entries deleted behind the writer's back, or just migrated) is
    rebuilt from the stored leaves; when they are not all there, storing goes on from the
    stored edge (R7.4: nothing stops the log): signed checkpoints, not this state, are the
    evidence, and `authz log verify --checkpoint` names the damage."""
    base, size, edge = log_tree.state()
    stored = _edge(size, edge)
    if stored is not None and base + size == seq:
        return stored, base
    if size:
        log.error("the log's tree holds %d leaves but the chain ends at entry %d: rebuilding it", size, seq)
    rebuilt, done = merkle.Frontier(), list[tuple[int, int, bytes]]()
    try:
        for leaf in log_tree.leaves(base, 0, seq - base):
            rebuilt.append(bytes.fromhex(leaf), done)
            if len(done) >= 1000:
                done = _save_nodes(done)
    except (MissingLeaves, ValueError) as exc:
        log.error("the log's tree cannot be rebuilt (%s): going on from its stored edge", exc)
        return stored or merkle.Frontier(), base
    _save_nodes(done)
    return rebuilt, base


def _save_nodes(done: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
    log_tree.save_nodes([(height, index, node.hex()) for height, index, node in done])
    return []


def _edge(size: int, edge: list[str]) -> merkle.Frontier | None:
    try:
        return merkle.Frontier(size, [bytes.fromhex(h) for h in edge])
    except ValueError:  # not an edge of that size: edited by hand
        return None


def save(edge: merkle.Frontier, done: list[tuple[int, int, bytes]] | None = None) -> None:
    """Store the tree's edge and the subtrees the batch completed (same transaction as its entries)."""
    log_tree.save(edge.size, [h.hex() for h in edge.hashes])
    _save_nodes(done or [])


def size_and_root() -> tuple[int, bytes]:
    """The stored tree's size and root (read at once: the edge is one row)."""
    _, size, edge = log_tree.state()
    return size, merkle.Frontier(size, [bytes.fromhex(h) for h in edge]).root()


def _range_root(base: int, ranges: Sequence[tuple[int, int]] = (), stored: dict[int, str] | None = None,
                with_state: bool = False):
    """(MTH of a range of leaves, from the kept subtree roots where it can (R7.6); the tree's
    (base, size) when `with_state`). What the `ranges` of a proof read is fetched first in one
    query (kept roots, and leaves into `stored`, with the leaves already there, and the tree's
    state); anything missing from that is read on its own, as before."""
    plan: list[tuple[int, int, int]] = []
    for lo, hi in ranges:
        merkle.range_plan(lo, hi, plan)
    stored = {} if stored is None else stored
    kept, found, state = log_tree.proof_reads(
        base, [p for p in plan if p[0] >= 0], [(lo, hi) for h, lo, hi in plan if h < 0] + [(i, i + 1) for i in stored],
        with_state)
    stored.update(found)

    def leaves(lo: int, hi: int):
        if all(i in stored for i in range(lo, hi)):
            return (bytes.fromhex(stored[i]) for i in range(lo, hi))
        return (bytes.fromhex(h) for h in log_tree.leaves(base, lo, hi))

    def nodes(height: int, first: int, end: int) -> list[bytes | None]:
        if all((height, i) in kept for i in range(first, end)):
            return [bytes.fromhex(kept[height, i]) for i in range(first, end)]
        found = log_tree.nodes(height, first, end)
        return [bytes.fromhex(found[i]) if i in found else None for i in range(first, end)]

    return (lambda lo, hi: merkle.range_root(lo, hi, leaves, nodes)), state


def root_at(size: int) -> bytes:
    """The root of the tree of the first `size` leaves, from the stored leaves."""
    base, _, _ = log_tree.state()
    return _range_root(base)[0](0, size)


_base_seen = [0]  # the tree's base as last read (it is set once, when the tree's row is made)


def inclusion(seq: int, size: int) -> tuple[int, bytes, list[bytes]]:
    """(leaf index, leaf hash, proof) of entry `seq` in the tree of `size` leaves; ValueError
    when the entry or the size is not in the tree, MissingLeaves when a leaf is gone. One
    query: planned with the base last seen, which the tree's state read with it confirms."""
    guess = _base_seen[0]
    found = _inclusion(seq, size, guess) if 0 <= seq - 1 - guess < size else None
    if found is None:  # not the tree's base (or no tree yet): read it first, then plan
        _base_seen[0] = log_tree.state()[0]
        found = _inclusion(seq, size, _base_seen[0])
    if found is None:
        raise ValueError("the tree was made anew while its proof was read")
    return found


def _inclusion(seq: int, size: int, base: int) -> tuple[int, bytes, list[bytes]] | None:
    """inclusion() with the tree's base taken to be `base`; None when the tree's state says otherwise."""
    index = seq - 1 - base
    if not 0 <= index < size:
        raise ValueError(f"entry {seq} is not in a tree of {size} leaves")
    ranges, stored = merkle.inclusion_ranges(index, size), {index: ""}  # its own leaf read with the rest
    range_root, state = _range_root(base, ranges, stored, with_state=True)
    if state is None or state[0] != base:
        return None
    if size > state[1]:
        raise ValueError(f"entry {seq} is not in a tree of {size} leaves (the log has {state[1]})")
    leaf = stored[index] or log_tree.leaf_of(seq, base)
    if not leaf:
        raise MissingLeaves(f"entry {seq} is not stored")
    return index, bytes.fromhex(leaf), merkle.prove(ranges, range_root)


def consistency(old: int, new: int) -> list[bytes]:
    """The proof that the tree of `new` leaves extends the tree of `old`; ValueError out of range."""
    base, current, _ = log_tree.state()
    if not 0 <= old <= new <= current:
        raise ValueError(f"no proof from {old} to {new} leaves (the log has {current})")
    ranges = merkle.consistency_ranges(old, new)
    return merkle.prove(ranges, _range_root(base, ranges)[0])
