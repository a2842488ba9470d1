"""The decision log's Merkle tree in the database (R7.6; docs/decisions/030-signed-checkpoints.md):
its right edge (`log_tree`), each entry's leaf, the roots of complete subtrees (`log_node`), and
migration 7's leaves for older entries."""

import hashlib
import logging
from collections.abc import Iterator

from peewee import SqliteDatabase

from authz_service.store.entry_form import CONTENT, content, leaf_hex
from authz_service.store.models import Decision, LogHead, LogNode, LogTree, database
from authz_service.store.rows import dicts, tuples

HASH_HEX = 64
log = logging.getLogger("authz.log_tree")


class MissingLeaves(Exception):
    """A leaf the tree needs is not stored (deleted, or archived)."""


def state() -> tuple[int, int, list[str]]:
    """(base, size, edge roots in hex, largest first); made (empty, after the archived entries) if absent."""
    row = database.execute_sql('SELECT "base", "size", "frontier" FROM "log_tree" WHERE "id" = 1').fetchone()
    if row is None:
        archived = LogHead.select(LogHead.archived_seq).where(LogHead.id == 1).scalar() or 0
        LogTree.insert(id=1, base=archived, size=0, frontier="").on_conflict_ignore().execute()
        return state()
    base, size, joined = row
    return base, size, [joined[i:i + HASH_HEX] for i in range(0, len(joined), HASH_HEX)]


def save(size: int, edge: list[str]) -> None:
    """The tree's new size and right edge; inside the chain's lock (decisions.chain_end)."""
    LogTree.update(size=size, frontier="".join(edge)).where(LogTree.id == 1).execute()


def leaves(base: int, lo: int, hi: int, chunk: int = 5000) -> Iterator[str]:
    """The stored leaf hashes (hex) of leaves lo..hi-1, in order; MissingLeaves at a gap. The
    leaves of archived entries are read from what archiving left behind (`keep_leaves`)."""
    seq, last = base + lo, base + hi
    while seq < last:
        query = (Decision.select(Decision.seq, Decision.leaf_hash)
                 .where((Decision.seq > seq) & (Decision.seq <= last)).order_by(Decision.seq).limit(chunk))
        rows = tuples(query)
        if not rows or rows[0][0] != seq + 1:  # archived entries: their kept leaves up to the gap's end
            end = rows[0][0] - 1 if rows else last
            yield from _kept_leaves(seq - base, end - base)
            seq = end
        for found, leaf in rows:
            if found != seq + 1 or leaf is None:
                raise MissingLeaves(f"entry {seq + 1} is not stored with its leaf")
            yield leaf
            seq = found


def _kept_leaves(lo: int, hi: int) -> list[str]:
    """Leaves lo..hi-1 kept when their entries were archived; MissingLeaves when one is not."""
    kept = nodes(0, lo, hi)
    if len(kept) != hi - lo:
        gone = next(i for i in range(lo, hi) if i not in kept)
        raise MissingLeaves(f"leaf {gone} is not stored (its entry is neither in the log nor archived with its leaf)")
    return [kept[i] for i in range(lo, hi)]


def keep_leaves(through_seq: int) -> None:
    """Archiving (R7.6): the leaf hashes of entries up to `through_seq` stay behind as height-0
    rows of log_node, so the proofs of the entries after them still build."""
    database.execute_sql(
        'INSERT INTO "log_node" ("height", "position", "hash") SELECT 0, "leaf_index", "leaf_hash" '
        f'FROM "decision" WHERE "seq" <= {database.param} AND "leaf_index" IS NOT NULL '
        'AND "leaf_hash" IS NOT NULL ON CONFLICT DO NOTHING', (through_seq,))


def keep_levels(stride: int) -> int:
    """Migration 12 (docs/decisions/039-inclusion-proof-reads.md): the roots of the complete
    subtrees at heights the tree did not keep before (a multiple of `stride`, not of 8), from
    the stored leaves in one pass, as log/merkle.py's Frontier finds them; how many. Heights
    8, 16, ... stay as stored. At a leaf that is gone the pass stops: proofs past it read
    smaller subtrees, as they could before."""
    base, size, _ = state()
    edge: list[tuple[int, bytes]] = []  # (height, root) of the perfect subtrees on the right edge
    done: list[tuple[int, int, str]] = []
    kept = count = 0
    try:
        for leaf in leaves(base, 0, size):
            node, height = bytes.fromhex(leaf), 0
            while edge and edge[-1][0] == height:
                node, height = hashlib.sha256(b"\x01" + edge.pop()[1] + node).digest(), height + 1
                if height % stride == 0 and height % 8:
                    done.append((height, ((count + 1) >> height) - 1, node.hex()))
            edge.append((height, node))
            count += 1
            if len(done) >= 1000:
                save_nodes(done)
                kept, done = kept + len(done), []
    except (MissingLeaves, ValueError) as exc:
        log.error("the tree's new kept levels stop at leaf %d: %s", count, exc)
    save_nodes(done)
    return kept + len(done)


def save_nodes(nodes: list[tuple[int, int, str]]) -> None:
    """Keep completed subtree roots (height, index, hex); a rebuilt tree's replace the old."""
    if nodes:  # plain SQL: a batch of 1,000 entries keeps ~67 roots (docs/decisions/039-inclusion-proof-reads.md)
        values = ", ".join([f"({database.param}, {database.param}, {database.param})"] * len(nodes))
        database.execute_sql(f'INSERT INTO "log_node" ("height", "position", "hash") VALUES {values} ON CONFLICT '
                             '("height", "position") DO UPDATE SET "hash" = EXCLUDED."hash"', [v for n in nodes for v in n])


def nodes(height: int, first: int, end: int) -> dict[int, str]:
    """The kept subtree roots of this height with index first..end-1, by index."""
    query = (LogNode.select(LogNode.position, LogNode.hash)
             .where((LogNode.height == height) & (LogNode.position >= first) & (LogNode.position < end)))
    return dict(tuples(query))


def proof_reads(base: int, nodes: list[tuple[int, int, int]], leaves: list[tuple[int, int]],
                with_state: bool = False) -> tuple[dict[tuple[int, int], str], dict[int, str], tuple[int, int] | None]:
    """What a proof reads, in one query: the kept roots of several (height, first, end) ranges,
    by (height, position), the stored leaves of several [lo, hi) ranges, by leaf index (live
    entries only), and with `with_state` the tree's (base, size) from the same snapshot (None
    when it has no row yet). Plain SQL: tens of rows without the ORM's cost per row."""
    sql, params = (_reads_sqlite if isinstance(database.obj, SqliteDatabase) else _reads_postgres)(
        nodes, [(base + lo, base + hi) for lo, hi in leaves])
    if with_state:
        sql = f'SELECT -2, "base", CAST("size" AS VARCHAR(20)) FROM "log_tree" WHERE "id" = 1 UNION ALL {sql}'
    kept: dict[tuple[int, int], str] = {}
    stored: dict[int, str] = {}
    state = None
    for height, position, value in database.execute_sql(sql, params).fetchall():
        if height >= 0:
            kept[height, position] = value
        elif height == -1:
            stored[position - 1 - base] = value
        else:
            state = position, int(value)
    return kept, stored, state


_NO_ROWS = 'SELECT -3, 0, \'\' WHERE 1 = 0'


def _reads_sqlite(nodes: list[tuple[int, int, int]], seqs: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """proof_reads' query on SQLite: one OR term a range."""
    mark, parts, params = database.param, [_NO_ROWS], []
    if nodes:
        where = " OR ".join([f'("height" = {mark} AND "position" >= {mark} AND "position" < {mark})'] * len(nodes))
        parts.append(f'SELECT "height", "position", "hash" FROM "log_node" WHERE {where}')
        params += [v for w in nodes for v in w]
    if seqs:
        where = " OR ".join([f'("seq" > {mark} AND "seq" <= {mark})'] * len(seqs))
        parts.append(f'SELECT -1, "seq", "leaf_hash" FROM "decision" WHERE "leaf_hash" IS NOT NULL AND ({where})')
        params += [v for w in seqs for v in w]
    return " UNION ALL ".join(parts), params


_POSTGRES_READS = (  # LATERAL ... OFFSET 0: an index scan a range, whatever the statistics say
    'SELECT n.* FROM unnest(%s::smallint[], %s::bigint[], %s::bigint[]) AS r(h, lo, hi), LATERAL '
    '(SELECT "height", "position", "hash" FROM "log_node" WHERE "height" = r.h AND "position" >= r.lo '
    'AND "position" < r.hi OFFSET 0) AS n UNION ALL SELECT d.* FROM unnest(%s::bigint[], %s::bigint[]) AS r(lo, hi), LATERAL '
    '(SELECT -1, "seq", "leaf_hash" FROM "decision" WHERE "seq" > r.lo AND "seq" <= r.hi '
    'AND "leaf_hash" IS NOT NULL OFFSET 0) AS d')


def _reads_postgres(nodes: list[tuple[int, int, int]], seqs: list[tuple[int, int]]) -> tuple[str, list[str]]:
    """proof_reads' query on PostgreSQL: the ranges as arrays, so its text is always the same
    (psycopg keeps it prepared; no parsing of a long text each time)."""
    columns = [[n[0] for n in nodes], [n[1] for n in nodes], [n[2] for n in nodes], [s[0] for s in seqs], [s[1] for s in seqs]]
    return _POSTGRES_READS, ["{" + ",".join(map(str, c)) + "}" for c in columns]  # array literals: cheaper to send


def leaf_of(seq: int, base: int = 0) -> str | None:
    """The stored leaf hash (hex) of entry `seq` (or the one its archiving left), None when neither is."""
    found = Decision.select(Decision.leaf_hash).where(Decision.seq == seq).scalar()
    return found or nodes(0, seq - 1 - base, seq - base).get(seq - 1 - base)


def backfill(base: int, chunk: int = 2000) -> int:
    """Migration 7: the leaf index and hash of every stored entry, in chain order; how many."""
    fields = [Decision._meta.fields[name] for name in (*CONTENT, "altered", "seq")]
    after, done = base, 0
    sql = f'UPDATE "decision" SET "leaf_index" = {database.param}, "leaf_hash" = {database.param} ' \
          f'WHERE "seq" = {database.param}'
    while True:
        rows = dicts(Decision.select(*fields).where(Decision.seq > after).order_by(Decision.seq).limit(chunk))
        if not rows:
            return done
        database.cursor().executemany(
            sql, [(r["seq"] - 1 - base, leaf_hex(content(r)), r["seq"]) for r in rows])
        after, done = rows[-1]["seq"], done + len(rows)
