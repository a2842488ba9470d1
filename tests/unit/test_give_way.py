"""The log writer hands its core back every quarter millisecond (docs/decisions/054-the-writer-gives-way.md):
a worker it displaced waits that long at most for its core, not a timer tick (R7.4's storing
goes on at the same share of the CPU)."""

import math
from collections import Counter

import pytest

from authz_service import give_way, store
from authz_service.log import audit, chain, ingest, server, spool, spool_records
from authz_service.store import activity_rollup, decisions
from tests.support.log_entries import entry


class Clock:
    """time.monotonic_ns for give_way: moved by hand; counts the yields it sees."""

    def __init__(self):
        self.now, self.yields = 10**12, 0

    def monotonic_ns(self) -> int:
        return self.now

    def sched_yield(self) -> None:
        self.yields += 1


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(give_way.time, "monotonic_ns", fake.monotonic_ns)
    monkeypatch.setattr(give_way.os, "sched_yield", fake.sched_yield)
    monkeypatch.setattr(give_way, "_on", False)
    return fake


def test_only_the_writer_gives_way(clock):
    """Outside the writer (workers, the CLI, tests) a long loop never yields."""
    clock.now += 10**9
    give_way.give_way()
    assert clock.yields == 0


def test_the_writer_yields_once_a_turn_has_lasted_a_quarter_millisecond(clock):
    give_way.enable()
    clock.now += give_way.TURN_NS - 1
    give_way.give_way()
    assert clock.yields == 0
    clock.now += 1
    give_way.give_way()
    assert clock.yields == 1
    clock.now += give_way.TURN_NS - 1  # a new turn began at the yield
    give_way.give_way()
    assert clock.yields == 1


def test_a_turn_starts_when_the_writer_wakes(clock):
    """Time asleep in select is not time holding the core."""
    give_way.enable()
    clock.now += 10 * give_way.TURN_NS
    give_way.woke()
    give_way.give_way()
    assert clock.yields == 0


def test_the_writer_process_turns_it_on(clock, monkeypatch):
    """log/server.py's main() enables it before it stores anything."""
    seen = []

    class Stop(Exception):
        pass

    class FakeServer:
        def __init__(self, *args):
            seen.append(give_way._on)
            raise Stop

    monkeypatch.setattr(server.os, "nice", lambda _: 0)  # not this test process's own priority
    monkeypatch.setattr(server.signal, "signal", lambda *_: None)
    monkeypatch.setattr(server.logging, "basicConfig", lambda **_: None)
    monkeypatch.setattr(server.store, "connect", lambda *_, **__: None)
    monkeypatch.setattr(server, "Server", FakeServer)
    monkeypatch.setattr(server.sys, "argv", ["server", "spool", "socket"])
    with pytest.raises(Stop):
        server.main()
    assert seen == [True]


@pytest.fixture
def places(monkeypatch):
    """Which of the writer's loops gave way, and how often: each module's give_way, recorded."""
    calls: Counter = Counter()
    for name, module in (("line", spool_records), ("record", ingest), ("entry", chain), ("insert", decisions),
                         ("fold", activity_rollup), ("verify", audit)):
        monkeypatch.setattr(module, "give_way", lambda name=name: calls.update([name]))
    return calls


def test_the_writers_long_loops_give_way_between_short_pieces(app, places):
    """R7.4, decision 054: storing a spool read of 3 records of 100 entries gives way after each
    line, each record, each entry chained, each INSERT_CHUNK rows inserted (SQLite) and each
    FOLD_CHUNK entries counted into the rollup; verifying, after each entry checked."""
    lines = b"".join(spool.line([chain._filled(entry(n))[1] for n in range(r * 100, r * 100 + 100)], None)
                     for r in range(3))
    found, used = spool_records.records(lines)
    assert len(found) == 3 and used == len(lines)
    with store.connection():
        ingest.store_records(found, dedupe=False)
        inserted = places["insert"]
        assert decisions.fold_rollup(10_000)[0] == 300
        assert audit.Verdict(0, *decisions.anchor()).follow(decisions.walk())
    assert places["line"] == 3 and places["record"] == 3 and places["entry"] == 300
    assert places["fold"] == math.ceil(300 / activity_rollup.FOLD_CHUNK)
    assert places["verify"] == 300
    if store.database.param == "?":
        assert inserted == math.ceil(300 / decisions.INSERT_CHUNK)


def test_inserting_in_pieces_stores_every_row_in_order(app):
    """The chunks of executemany store what one call stored: every entry once, in chain order."""
    with store.connection():
        ids = chain.append([entry(n) for n in range(2 * decisions.INSERT_CHUNK + 5)], None)
        assert [e["id"] for e in decisions.walk()] == ids
        assert audit.Verdict(0, *decisions.anchor()).follow(decisions.walk())
