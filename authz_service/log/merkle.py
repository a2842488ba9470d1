"""The log's Merkle tree, RFC 6962 / RFC 9162 hashing, as pure functions (R7.6;
docs/decisions/030-signed-checkpoints.md). A leaf is SHA-256(0x00 || entry bytes), a node
SHA-256(0x01 || left || right), the empty tree's root SHA-256(""). `Frontier` keeps the roots
of the perfect subtrees along the right edge (appending is O(log n)). Each proof hash is the
root of one range of leaves (`inclusion_ranges`, `consistency_ranges`), read from kept roots.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
STRIDE = 4  # roots of subtrees of 2**4, 2**8, 2**12, ... leaves are kept (log_node; decision 039)


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962: the hash of one entry's bytes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The right edge of a tree: one subtree root per set bit of `size`, largest first."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} edge roots, not {len(hashes)}")
        self.size, self.hashes = size, list(hashes)

    def append(self, leaf: bytes, done: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add one leaf hash: merge equal-sized subtrees, as a binary counter carries. Each
        subtree completed at a height that is a multiple of STRIDE is added to `done` as
        (height, index from the left, root)."""
        node, size, height = leaf, self.size, 0
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size, height = size >> 1, height + 1
            if done is not None and height % STRIDE == 0:
                done.append((height, ((self.size + 1) >> height) - 1, node))
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The tree's root: the edge roots folded from the right (the smallest subtree)."""
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node


def root(leaves: Iterable[bytes]) -> bytes:
    """The root of a tree of these leaf hashes (streamed: O(log n) memory)."""
    edge = Frontier()
    for leaf in leaves:
        edge.append(leaf)
    return edge.root()


def range_root(lo: int, hi: int, leaves: Callable[[int, int], Iterable[bytes]],
               nodes: Callable[[int, int, int], list[bytes | None]]) -> bytes:
    """MTH(D[lo:hi]). A complete aligned subtree of 2**h leaves (h >= STRIDE) is the root of
    its kept subtrees `nodes(height, first, end)` (height the multiple of STRIDE below h) when
    all are kept; anything else is split as RFC 6962 splits it, down to `leaves` of small ranges."""
    n = hi - lo
    if n & (n - 1) == 0 and lo % n == 0 and n >= 1 << STRIDE:
        kept = (n.bit_length() - 1) // STRIDE * STRIDE  # the kept height at or below this one
        parts = nodes(kept, lo >> kept, hi >> kept)
        found = [p for p in parts if p is not None]
        if len(found) == len(parts) == n >> kept:
            return _perfect_root(found)
    if n <= 1 << STRIDE:
        return root(leaves(lo, hi))
    k = _split(n)
    return node_hash(range_root(lo, lo + k, leaves, nodes), range_root(lo + k, hi, leaves, nodes))


def _perfect_root(nodes: list[bytes]) -> bytes:
    """The root over 2**k sibling subtree roots, level by level."""
    while len(nodes) > 1:
        nodes = [node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
    return nodes[0]


def range_plan(lo: int, hi: int, out: list[tuple[int, int, int]]) -> None:
    """What `range_root(lo, hi)` reads when every kept subtree is there, appended to `out`:
    (height, first, end) for kept roots, (-1, lo, hi) for leaves; so a caller reads them at once."""
    n = hi - lo
    if n & (n - 1) == 0 and lo % n == 0 and n >= 1 << STRIDE:
        kept = (n.bit_length() - 1) // STRIDE * STRIDE
        out.append((kept, lo >> kept, hi >> kept))
    elif n <= 1 << STRIDE:
        out.append((-1, lo, hi))
    else:
        k = _split(n)
        range_plan(lo, lo + k, out)
        range_plan(lo + k, hi, out)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 6962 PATH(index, D[0:size]) as leaf ranges [lo, hi), deepest first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 6962 PROOF(old, D[0:new]) as leaf ranges [lo, hi), deepest first; [] when old is 0 or new."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, whole = 0, new, True  # SUBPROOF(m, D[lo:hi], whole)
    m = old
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            m -= k
            lo += k
            whole = False
    if not whole:
        ranges.append((lo, hi))
    return ranges[::-1]


def prove(ranges: list[tuple[int, int]], range_root: Callable[[int, int], bytes]) -> list[bytes]:
    """A proof: the root of each range, as `range_root(lo, hi)` computes it."""
    return [range_root(lo, hi) for lo, hi in ranges]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 2.1.3.2: does `proof` place `leaf` at `index` in the tree of `size` with this root?"""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == root_hash


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: is the tree of `new` leaves an extension of the tree of `old` leaves?"""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the proof's start
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
