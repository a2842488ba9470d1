"""The decision path's shortcuts count what the longer way counted (docs/decisions/041-cpu-per-decision.md):
the metrics' remembered children; the spool's record form is tests/unit/test_spool_form.py's."""


from prometheus_client import REGISTRY

from authz_service import metrics
from tests.support.forked import in_child


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
    _, theirs = in_child(lambda: api.request_id_for(""))  # a forked worker draws its own ids
    assert theirs[:16] != made[0][:16] and theirs not in made
    assert api.request_id_for("given-1.2_3") == "given-1.2_3"


def test_entry_ids_are_unique_time_ordered_32_hex_digits(monkeypatch):
    """chain._EntryIds keeps a millisecond's first digits: still the time first, then unique."""
    from authz_service.log import chain

    clock = [1_700_000_000_000_000_000]
    monkeypatch.setattr(chain.time, "time_ns", lambda: clock[0])
    ids = chain._EntryIds()
    made = []
    for step in range(3000):
        clock[0] += 400_000 * (step % 3)  # 0, 0.4 or 0.8 ms later: the same millisecond or the next
        made.append(ids.next())
        assert made[-1][:12] == f"{clock[0] // 1_000_000:012x}"
    assert len(set(made)) == len(made) and all(len(i) == 32 and int(i, 16) >= 0 for i in made)
    assert made == sorted(made, key=lambda i: i[:12])


def test_a_time_is_formatted_as_the_log_hashes_it_whether_kept_or_not():
    """entry_form.canonical_at keeps the last time's text: the same object, an equal one and a
    different one each give isoformat's text."""
    from datetime import datetime

    from authz_service.store.entry_form import canonical_at

    first, equal, other = datetime(2026, 3, 1, 12, 0, 4), datetime(2026, 3, 1, 12, 0, 4), datetime(2026, 3, 1, 12, 0, 4, 5)
    for value in (first, first, equal, other, first, other, other):
        assert canonical_at(value) == value.isoformat(timespec="microseconds")
    assert canonical_at("2026-03-01T12:00:04.000000") == "2026-03-01T12:00:04.000000"
