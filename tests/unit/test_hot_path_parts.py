"""The decision path's shortcuts count what the longer way counted (docs/decisions/041-cpu-per-decision.md):
the metrics' remembered children; the spool's record form is tests/unit/test_spool_form.py's."""


from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from authz_service import metrics
from authz_service.log.values import LIMITS
from tests.support.forked import in_child


def _count(action: str, allowed: str) -> float:
    return REGISTRY.get_sample_value("authz_decisions_total", {"action": action, "allowed": allowed}) or 0.0


def test_each_decision_counts_in_its_own_action_and_outcome():
    before = {key: _count(*key) for key in [("port.view", "true"), ("port.view", "false"), ("port.edit", "true")]}
    metrics.observe_decisions([("port.view", True), ("port.view", False), ("port.view", True),
                               ("port.edit", True)])
    metrics.observe_decisions([("port.view", False)])  # a lone decision: its own shortcut
    metrics.observe_decisions([("port.edit", True)])
    metrics.observe_decisions([])
    after = {key: _count(*key) - was for key, was in before.items()}
    assert after == {("port.view", "true"): 2, ("port.view", "false"): 2, ("port.edit", "true"): 2}


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


def _fit_by_the_rule(entry: dict) -> dict:
    """R7.4 as log/values.py's docstring states it, field by field: each text made storable and
    cut to its column, `altered` when any changed (the reference for values.fit's shortcut)."""
    from authz_service.log import values

    fitted = dict(entry)
    for name, limit in values.LIMITS.items():
        if fitted.get(name) is not None:
            fitted[name] = values.storable(str(fitted[name]), limit)
    fitted["altered"] = bool(entry.get("altered")) or any(  # a number is stored as its text, not altered
        fitted[name] != str(entry[name]) for name in values.LIMITS if entry.get(name) is not None)
    return fitted


class _Text(str):
    """A str subclass, which values.fit's shortcut (exactly str) leaves to the longer way."""


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(LIMITS)),
                       st.one_of(st.none(), st.integers(), st.text(max_size=260),
                                 st.text(alphabet=st.sampled_from("ab\x00\ud800…é"), max_size=70),
                                 st.text(alphabet="xyz", min_size=30, max_size=2100), st.text(max_size=40).map(_Text)),
                       max_size=14),
       st.booleans())
def test_values_fit_makes_each_field_what_the_rule_says(fields, altered):
    """R7.4: values.fit's shortcut (ASCII, no NUL, within the column: left as it is) gives what the
    rule field by field gives, for generated text, NUL, lone surrogates, long values, numbers and a str subclass."""
    from authz_service.log import values

    entry = {**fields, "altered": altered}
    expected = _fit_by_the_rule(entry)
    assert values.fit(entry) is expected["altered"]
    assert entry == expected


def test_an_entry_missing_fields_is_filled_and_hashed_as_one_naming_them_none():
    """R7.1, R7.4: chain._filled names every CONTENT field an entry leaves out, as None, and hashes
    the same bytes as for the entry naming them all (its shortcut: one check when all are named)."""
    from datetime import datetime

    from authz_service.log import chain

    short = {"at": datetime(2026, 3, 1, 12, 0, 4, 5), "id": "0" * 32, "user_email": "ada@acme.example",
             "action": "ports:view", "allowed": 1}
    full = {**{key: None for key in chain.CONTENT}, **short}
    (filled, body), (filled_full, body_full) = chain._filled(dict(short)), chain._filled(dict(full))
    assert body == body_full and filled == filled_full
    assert all(filled[key] is None for key in chain.CONTENT if key not in short)
    assert filled["allowed"] is True


VALUE = st.one_of(st.text(max_size=12), st.sampled_from(["partner-admin", "é ☃ \u2028 \x00 \"q\""]), st.none(),
                  st.integers(-2, 2), st.lists(st.text(max_size=3), max_size=2))
ANSWER = st.one_of(
    st.fixed_dictionaries({"decision": st.booleans(), "context": st.fixed_dictionaries(
        {"decision_id": st.text(max_size=36)},
        optional={"group": st.sampled_from(["admin", "ops"]), "reason": st.sampled_from(["why", "é why"]),
                  "rule": st.sampled_from(["r1", "r2"])})}),  # as authzen._answer makes them
    st.fixed_dictionaries({"decision": st.booleans() | st.integers(0, 1) | st.none(),
                           "context": st.dictionaries(st.sampled_from(["decision_id", "group", "reason", "rule", "error"]),
                                                      VALUE, max_size=5) | VALUE}),
    st.dictionaries(st.sampled_from(["decision", "context", "x"]), VALUE, max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ANSWER, max_size=8), st.sampled_from([{}, {"x": 1}]))
def test_an_evaluations_answer_is_written_as_flask_writes_it(answers, beside):
    """API.md, AuthZEN evaluations: api/fast.py writes a decided evaluation with its verdict's
    members kept from earlier items: the same bytes as the sorted encoder (Flask's), ASCII-escaped,
    for decided answers, errors, odd values and repeats, and for a body that is not only evaluations."""
    from authz_service.api import fast

    for payload in ({"evaluations": answers + answers, **beside}, {"evaluations": answers[::-1]}):
        assert fast._json(payload) == (fast._SORTED(payload) + "\n").encode()
