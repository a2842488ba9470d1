"""The decision path's shortcuts count what the longer way counted (docs/decisions/041-cpu-per-decision.md):
the metrics' remembered children; the spool's record form is tests/unit/test_spool_form.py's."""

import os

from prometheus_client import REGISTRY

from authz_service import metrics


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
