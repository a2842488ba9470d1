"""The decision path's shortcuts write what the longer way wrote (docs/decisions/041-cpu-per-decision.md):
the spool row built straight from an entry, and the metrics' remembered children (R7.1, R7.4)."""

import os
from datetime import datetime

import pytest
from prometheus_client import REGISTRY

from authz_service import metrics
from authz_service.log import chain
from authz_service.store import decisions
from tests.support.log_entries import entry

ENTRIES = {
    "plain": entry(1, id="a" * 32),
    "altered": entry(2, id="b" * 32, reason="x" * 3000),  # cut to its column: `altered` true
    "with facts": entry(3, id="c" * 32, facts='{"kind":"customer"}', policy_version="abc123def456"),
    "whole second": entry(4, id="d" * 32, at=datetime(2026, 3, 1, 12, 0, 4)),  # str() drops .000000
    "no account": entry(5, id="e" * 32, account_id=None, log_account=None, resource_type=None),
}


@pytest.mark.parametrize("sqlite", [True, False], ids=["sqlite", "postgresql"])
@pytest.mark.parametrize("name", ENTRIES)
def test_a_spool_row_is_the_wire_form_of_the_row_start_then_the_content(name, sqlite, monkeypatch):
    """R7.4: the log writer stores the same row and hashes the same bytes as before the shortcut."""
    monkeypatch.setattr(decisions, "_is_sqlite", lambda: sqlite)
    filled, body = chain._filled(dict(ENTRIES[name]))
    longer_way = [*decisions.row_to_wire(decisions.row_start(filled)), body.decode()]
    assert decisions.wire_row(filled, body.decode()) == longer_way
    assert decisions.row_from_wire(longer_way[:-1]) == decisions.row_start(filled)


def _count(action: str, allowed: str) -> float:
    return REGISTRY.get_sample_value("authz_decisions_total", {"action": action, "allowed": allowed}) or 0.0


def test_each_decision_counts_in_its_own_action_and_outcome():
    before = {key: _count(*key) for key in [("port.view", "true"), ("port.view", "false"), ("port.edit", "true")]}
    metrics.observe_decisions([("port.view", True), ("port.view", False), ("port.view", True),
                               ("port.edit", True)])
    metrics.observe_decisions([("port.view", False)])
    after = {key: _count(*key) - was for key, was in before.items()}
    assert after == {("port.view", "true"): 2, ("port.view", "false"): 2, ("port.edit", "true"): 1}


def test_each_answer_is_timed_under_its_own_endpoint():
    def count(endpoint: str) -> float:
        return REGISTRY.get_sample_value("authz_request_seconds_count", {"endpoint": endpoint}) or 0.0

    before = count("/v1/authorize"), count("/access/v1/evaluation")
    metrics.observe_latency("/v1/authorize", 0.001)
    metrics.observe_latency("/access/v1/evaluation", 0.002)
    metrics.observe_latency("/v1/authorize", 0.003)
    assert (count("/v1/authorize") - before[0], count("/access/v1/evaluation") - before[1]) == (2, 1)


def test_new_request_ids_are_32_hex_digits_unique_and_differ_between_processes():
    from authz_service import api

    made = [api.request_id_for("") for _ in range(2000)] + [api.request_id_for("not a token!")]
    assert len(set(made)) == len(made)
    assert all(len(one) == 32 and int(one, 16) >= 0 and one == one.lower() for one in made)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker draws its own ids
        os.write(writer, api.request_id_for("").encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(reader, 64).decode()
    os.close(reader)
    os.close(writer)
    assert theirs[:16] != made[0][:16] and theirs not in made
    assert api.request_id_for("given-1.2_3") == "given-1.2_3"
