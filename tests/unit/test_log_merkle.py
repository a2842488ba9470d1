"""log/merkle.py against RFC 6962's recursive definitions (R7.6): roots, inclusion and
consistency proofs for every size and pair of sizes, and proofs that fail when any byte changes."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from authz_service.log import merkle


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) as RFC 6962 2.1 writes it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) as RFC 6962 2.1.1 writes it."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return naive_path(m, leaves[:k]) + [naive_root(leaves[k:])]
    return naive_path(m - k, leaves[k:]) + [naive_root(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) as RFC 6962 2.1.2 writes it."""
    if m == len(leaves):
        return [] if whole else [naive_root(leaves)]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m <= k:
        return naive_subproof(m, leaves[:k], whole) + [naive_root(leaves[k:])]
    return naive_subproof(m - k, leaves[k:], False) + [naive_root(leaves[:k])]


def leaves_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(b"entry %d" % i) for i in range(n)]


def from_ranges(ranges, leaves):
    return merkle.prove(ranges, lambda lo, hi: merkle.root(leaves[lo:hi]))


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def test_hashes_are_rfc_6962_domain_separated():
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest()


def test_every_root_up_to_70_matches_the_recursive_definition():
    leaves = leaves_of(70)
    edge = merkle.Frontier()
    for n in range(71):
        assert edge.root() == naive_root(leaves[:n]), n
        assert merkle.Frontier(edge.size, edge.hashes).root() == edge.root()  # stored and reloaded
        if n < 70:
            edge.append(leaves[n])


def test_every_proof_of_a_small_log_matches_and_verifies():
    leaves = leaves_of(33)
    for n in range(1, 34):
        root = naive_root(leaves[:n])
        for m in range(n):
            proof = from_ranges(merkle.inclusion_ranges(m, n), leaves)
            assert proof == naive_path(m, leaves[:n]), (m, n)
            assert merkle.verify_inclusion(m, n, leaves[m], proof, root)
        for m in range(1, n + 1):
            proof = from_ranges(merkle.consistency_ranges(m, n), leaves)
            assert proof == (naive_subproof(m, leaves[:n], True) if m < n else []), (m, n)
            assert merkle.verify_consistency(m, n, naive_root(leaves[:m]), root, proof), (m, n)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 10_000), st.data())
def test_proofs_of_a_log_of_up_to_10000_entries_verify_and_fail_when_any_byte_changes(n, data):
    leaves = leaves_of(n)
    root = merkle.root(leaves)
    m = data.draw(st.integers(0, n - 1))
    proof = from_ranges(merkle.inclusion_ranges(m, n), leaves)
    assert merkle.verify_inclusion(m, n, leaves[m], proof, root)
    assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"entry %d!" % m), proof, root)
    assert not merkle.verify_inclusion(m, n, leaves[m], proof, flip(root, data.draw(st.integers(0, 31))))
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:i], flip(proof[i], data.draw(st.integers(0, 31))), *proof[i + 1:]]
        assert not merkle.verify_inclusion(m, n, leaves[m], bad, root)
        assert not merkle.verify_inclusion(m, n, leaves[m], proof[:-1], root)
    if n > 1:
        other = data.draw(st.integers(0, n - 1).filter(lambda x: x != m))
        assert not merkle.verify_inclusion(other, n, leaves[m], proof, root)

    old = data.draw(st.integers(1, n))
    old_root = merkle.root(leaves[:old])
    proof = from_ranges(merkle.consistency_ranges(old, n), leaves)
    assert merkle.verify_consistency(old, n, old_root, root, proof)
    assert not merkle.verify_consistency(old, n, flip(old_root, data.draw(st.integers(0, 31))), root, proof)
    assert not merkle.verify_consistency(old, n, old_root, flip(root, data.draw(st.integers(0, 31))), proof)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:i], flip(proof[i], data.draw(st.integers(0, 31))), *proof[i + 1:]]
        assert not merkle.verify_consistency(old, n, old_root, root, bad)


def test_out_of_range_positions_are_refused_not_proven():
    assert not merkle.verify_inclusion(5, 5, b"x" * 32, [], b"x" * 32)
    assert not merkle.verify_consistency(6, 5, b"x" * 32, b"x" * 32, [])
    leaf = merkle.leaf_hash(b"one")
    assert not merkle.verify_inclusion(0, 2, leaf, [], leaf)  # a one-leaf tree passed off as two
    assert not merkle.verify_consistency(1, 3, leaf, leaf, [leaf])  # a proof too short for its sizes
    for call in (lambda: merkle.inclusion_ranges(5, 5), lambda: merkle.consistency_ranges(6, 5)):
        try:
            call()
        except ValueError:
            continue
        raise AssertionError("an out-of-range proof was built")


def test_appends_report_every_completed_subtree_of_16_256_4096_and_65536_leaves():
    """Kept every 4 levels (docs/decisions/039-inclusion-proof-reads.md), none between."""
    leaves = leaves_of(70_000)
    edge, done = merkle.Frontier(), []
    for leaf in leaves:
        edge.append(leaf, done)
    for height in (4, 8, 12, 16):
        assert [(h, i) for h, i, _ in done if h == height] == [(height, i) for i in range(70_000 >> height)]
    assert {h for h, _, _ in done} == {4, 8, 12, 16}
    for height, index, node in done[::37] + [d for d in done if d[0] == 16]:
        size = 1 << height
        assert node == merkle.root(leaves[index * size:(index + 1) * size]), (height, index)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_proofs_from_kept_subtrees_are_the_proofs_from_leaves(n, data):
    leaves = leaves_of(n)
    edge, done = merkle.Frontier(), []
    for leaf in leaves:
        edge.append(leaf, done)
    kept = {(h, i): node for h, i, node in done}
    missing = data.draw(st.sets(st.sampled_from(sorted(kept)), max_size=2) if kept else st.just(set()))
    reads = []

    def read_leaves(lo, hi):
        reads.append(hi - lo)
        return leaves[lo:hi]

    def nodes(height, first, end):
        return [None if (height, i) in missing else kept.get((height, i)) for i in range(first, end)]

    m, old = data.draw(st.integers(0, n - 1)), data.draw(st.integers(1, n))
    for ranges in (merkle.inclusion_ranges(m, n), merkle.consistency_ranges(old, n)):
        assert merkle.prove(ranges, lambda lo, hi: merkle.range_root(lo, hi, read_leaves, nodes)) == \
            from_ranges(ranges, leaves)
    if not missing:
        assert sum(reads) <= 2 * 256 * 12  # small ranges only: never every leaf


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=1 << 16), st.integers(min_value=1, max_value=1 << 16))
def test_range_plan_names_exactly_what_range_root_reads(lo, n):
    """R7.6: a proof's reads are fetched at once from range_plan; it must be what range_root reads
    when every kept subtree is there (else a proof would fall back to a query per range)."""
    read: list[tuple[int, int, int]] = []

    def leaves(a, b):
        read.append((-1, a, b))
        return [bytes(32)] * (b - a)

    def nodes(height, first, end):
        read.append((height, first, end))
        return [bytes(32)] * (end - first)

    merkle.range_root(lo, lo + n, leaves, nodes)
    plan: list[tuple[int, int, int]] = []
    merkle.range_plan(lo, lo + n, plan)
    assert plan == read
