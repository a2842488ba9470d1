"""The activity pages on the partitioned log (R7.2, R7.3; docs/decisions/038-log-partitions.md):
PostgreSQL's plan of an account's page, newest first, reads each partition holding rows by
its index, and a time-bounded page reads only the months it covers."""

from datetime import datetime, timedelta

import pytest

from authz_service import store
from authz_service.app import create_app
from authz_service.store import decisions, partitions
from authz_service.store.models import database
from tests.support import backends
from tests.support.log_entries import append, entry

pytestmark = pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL")
MONTHS = [datetime(2026, m, 1) for m in (1, 2, 3)]
PER_MONTH = 3000


@pytest.fixture(scope="module")
def filled():
    """Three months of 3,000 entries each, over 40 accounts, analyzed."""
    create_app({"database_url": backends.postgres_url(drop=True), "bootstrap_key": "k" * 32,
                "policy_poll_seconds": 0}, migrate=True)
    with store.connection(), database.atomic():
        for month in MONTHS:
            partitions.add_month(database.obj, month)
    for month in MONTHS:
        for first in range(0, PER_MONTH, 1000):
            append([entry(n, at=month + timedelta(minutes=n * 7), account_id=f"c{n % 40}",
                          log_account=f"c{n % 40}") for n in range(first, first + 1000)])
    with store.connection():
        database.execute_sql('ANALYZE "decision"')
    yield
    store.close()


def _plan(filters: dict, monkeypatch) -> list[dict]:
    """The plan's nodes for decisions.page's own query with `filters`, from EXPLAIN (FORMAT JSON)."""
    seen = []
    monkeypatch.setattr(decisions, "tuples", lambda query: seen.append(query.sql()) or [])
    with store.connection():
        decisions.page(filters, None, 50)
        sql, params = seen[0]
        (plan,), = database.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
    nodes, todo = [], [plan["Plan"]]
    while todo:
        node = todo.pop()
        todo.extend(node.get("Plans", []))
        nodes.append(node)
    return nodes


def test_an_accounts_page_reads_each_partition_by_its_index(filled, monkeypatch):
    """No Seq Scan on a partition with rows: each month is read through its own (account_id,
    at, seq) index (an index scan, or a bitmap of it when the planner expects few rows) (R7.2)."""
    nodes = _plan({"account_id": "c7", "log_account": "c7"}, monkeypatch)
    scans = {n["Relation Name"]: n["Node Type"] for n in nodes if "Relation Name" in n}
    indexes = {n["Index Name"] for n in nodes if "Index Name" in n}
    for month in map(partitions.name, MONTHS):
        assert scans.get(month) in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"), scans
        assert f"{month}_account_id_at_seq_idx" in indexes, indexes


def test_a_time_bounded_page_reads_only_its_months(filled, monkeypatch):
    """since/until prune the partitions: February's page reads February's partition alone."""
    nodes = _plan({"account_id": "c7", "log_account": "c7", "since": MONTHS[1], "until": MONTHS[2]}, monkeypatch)
    assert {n["Relation Name"] for n in nodes if "Relation Name" in n} == {partitions.name(MONTHS[1])}, nodes
