"""Replay is exact on a recorded log (R9.7, issue 18 must-hold 4): every decision recorded since a
date, re-decided under a candidate policy from the facts it recorded, flips exactly where deciding
each entry's facts one by one under that policy flips; entries without facts are not replayable
(docs/decisions/033-decision-facts-and-replay.md)."""

import json
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from authz_service import store
from authz_service.decide import authorize
from authz_service.decide.replay import replay
from authz_service.log import chain
from authz_service.policy import PolicyError
from authz_service.policy.compare import compare
from authz_service.policy.facts import from_text
from authz_service.store import directory, fixtures, recorded
from authz_service.store.models import utcnow
from tests.support.log_entries import entry
from tests.support.policy_scratch import GROUPS, POLICIES, build, mutate, policy_files, replaced

BASE = {n: t for n, t in policy_files().items() if n != "invariants.toml"}  # random policies break them
ROOT = Path(__file__).resolve().parents[2]


def _directory(rng: random.Random) -> tuple[list[str], list[str]]:
    """(users, accounts): partners, customers, users of every group (and one unknown) and links."""
    users, accounts = ["nobody@nowhere.example"], ["no-such-account"]
    for p in range(2):
        partner = f"p{p}"
        directory.put_partner(partner, partner)
        accounts.append(partner)
        for c in range(2):
            customer = f"c{p}{c}"
            directory.put_customer(customer, customer, partner)
            accounts.append(customer)
            email = f"u@{customer}.example"
            directory.put_user(email, customer, "customer", rng.choice(GROUPS))
            users.append(email)
        for u in range(3):
            email = f"u{u}@{partner}.example"
            directory.put_user(email, partner, "partner", rng.choice([*GROUPS, "sales"]))
            users.append(email)
            for customer in accounts[-2:]:
                if rng.random() < 0.6:
                    directory.put_link(email, customer, rng.choice(GROUPS))
    return users, accounts


def _record(policy, rng: random.Random, users, accounts, n: int) -> None:
    """n decisions recorded as the service records them, some with a session bound elsewhere."""
    actions = list(policy.vocab.actions)
    for _ in range(n):
        authorize.authorize(policy, rng.choice(users), rng.choice(actions), rng.choice(accounts),
                            session=rng.choice([None, None, "no-such-session"]), caller="test")


def _one_by_one(new, since) -> tuple[Counter, dict]:
    """Each entry with facts since `since`, decided under `new` alone: flips by (action, direction)."""
    flips, ids = Counter(), {}
    for decision_id, text, action, allowed in recorded.each(since):
        now = new.decide(from_text(text), action).allowed
        if now != allowed:
            key = (action, "to_allow" if now else "to_deny")
            flips[key] += 1
            ids.setdefault(key, set()).add(decision_id)
    return flips, ids


def _policy(seed: int, old):
    """A random candidate that flips at least 60 cells of the old table, so that some of the
    recorded decisions flip whatever the shipped policy holds (a mutation that flips a
    handful of cells may miss every recorded decision and leave nothing to compare)."""
    for attempt in range(50):  # a mutation may give one `who` two groups: refused, try the next
        try:
            candidate = build(mutate(BASE, random.Random(seed * 100 + attempt), 1 + seed % 4))
        except PolicyError:
            continue
        if len(compare(old, candidate).flipped) >= 60:
            return candidate
    raise AssertionError("no valid random policy")


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_replay_equals_deciding_each_entry_one_by_one(database_url, seed):
    """R9.7: counts by action and direction and the sample ids agree with the one-by-one answer;
    under the policy that decided, nothing flips; entries without facts are not replayable."""
    rng = random.Random(seed)
    old = build(BASE)
    new = _policy(seed, old)
    store.connect(database_url, migrate=True)
    try:
        with store.connection():
            users, accounts = _directory(rng)
            _record(old, rng, users, accounts, 150)
            chain.append([entry(n) for n in range(7)])  # as recorded before migration 8: no facts
            authorize.record_operator("console key k", "manage", "link.create", "c00", {"type": "link"},
                                      "console", "an operator change")  # not a decision of the policy
            since = utcnow()
            _record(old, rng, users, accounts, 150)
            same, everything, later = replay(old, None), replay(new, None), replay(new, since)
            expected = {s: _one_by_one(new, s) for s in (None, since)}
    finally:
        store.close()
    assert same.flipped == 0 and same.replayed == 300 and same.not_replayable == 8
    assert same.versions == {old.version: 300}
    assert (later.replayed, later.not_replayable) == (150, 0)
    assert everything.flipped > later.flipped > 0
    for result, (flips, ids) in ((everything, expected[None]), (later, expected[since])):
        got = Counter({(a, d): c[d] for a, c in result.flips.items() for d in ("to_allow", "to_deny") if c[d]})
        assert got == flips
        for (action, direction), flipped_ids in ids.items():
            samples = result.flips[action]["samples"][direction]
            assert samples and set(samples) <= flipped_ids


# read_only loses invoice.download: iris, read_only at Initech, is the one whose decisions flip
EDITED = replaced(policy_files(), "account.csv", "p, read_only, *, invoice: view download, allow",
                  "p, read_only, *, invoice: view, allow")


def _recorded(tmp_path: Path, users: tuple[str, ...], between=None) -> str:
    """A demo database where each user was decided on invoice.download and port.view at Initech
    (then `between(policy)`); its URL. The edited policy written to tmp_path/policies."""
    url = f"sqlite:///{tmp_path}/live.db"
    store.connect(url, migrate=True)
    with store.connection():
        fixtures.load()
        policy = build(policy_files())
        for user in users:
            authorize.authorize(policy, user, "invoice.download", "initech")
            authorize.authorize(policy, user, "port.view", "initech")
        if between is not None:
            between(policy)
    store.close()
    for name, text in EDITED.items():
        (tmp_path / "policies" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "policies" / name).write_text(text)
    return url


def _impact(args: list[str], url: str, seconds: float = 300) -> subprocess.CompletedProcess:
    authz = str(Path(sys.executable).with_name("authz"))
    env = {"PATH": "/usr/bin:/bin", "AUTHZ_DATABASE_URL": url, "AUTHZ_POLICY_DIR": str(POLICIES)}
    return subprocess.run([authz, "policy", "impact", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=seconds)


def test_the_command_replays_since_a_date(tmp_path):
    """`authz policy impact NEW --since 30d --json`: the replay beside the grants, as deciding each
    entry under NEW says (read_only loses invoice.download); a bad --since is a clear error."""
    url = _recorded(tmp_path, ("iris@initech.example", "ike@initech.example", "sam@acme.example"))
    store.connect(url)
    with store.connection():
        flips, _ = _one_by_one(build(EDITED), None)
    store.close()
    assert flips == {("invoice.download", "to_deny"): 1}  # iris, read_only at Initech
    changed = str(tmp_path / "policies")
    done = _impact([changed, "--since", "30d", "--json"], url)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)["replay"]
    assert (answer["replayed"], answer["flipped"], answer["not_replayable"]) == (6, 1, 0)
    assert answer["by_action"]["invoice.download"]["to_deny"] == 1
    text = _impact([changed, "--since", "30d"], url)
    assert "6 decision(s) replayed, 1 would go the other way" in text.stdout
    for since, said in (("yesterday-ish", "neither a duration"), ("999999d", "before the year 1"),
                        ("1234567d", "neither a duration"), ("-3d", "neither a duration"),
                        ("0001-01-01T00:00:00+05:00", "out of range")):
        bad = _impact([changed, "--since", since], url)
        assert bad.returncode == 2 and said in bad.stderr, (since, bad.stderr)


def test_archived_decisions_are_replayed_once_their_files_verify(tmp_path):
    """Decision 046: `--archive FILE` replays the archived decisions too, as deciding each under NEW
    says; an archive that does not chain to the live log (an outcome flipped, a line that is not an
    entry, a file missing) replays nothing and says which entry; --archive needs --since."""
    from authz_service.log import audit

    archived = []

    def archive_then_decide(policy) -> None:
        archived.append(audit.archive(utcnow(), tmp_path / "old.jsonl"))
        authorize.authorize(policy, "iris@initech.example", "invoice.download", "initech")

    url = _recorded(tmp_path, ("iris@initech.example", "ike@initech.example"), archive_then_decide)
    assert archived[0] >= 4
    changed = tmp_path / "policies"
    live = json.loads(_impact([str(changed), "--since", "30d", "--json"], url).stdout)["replay"]
    done = _impact([str(changed), "--since", "30d", "--json", "--archive", str(tmp_path / "old.jsonl")], url)
    assert done.returncode == 0, done.stderr
    both = json.loads(done.stdout)["replay"]
    assert (live["flipped"], both["flipped"]) == (1, 2)  # iris's download, live and archived
    assert both["archived"] == 4 and both["replayed"] == live["replayed"] + 4
    assert both["by_action"]["invoice.download"]["to_deny"] == 2
    text = _impact([str(changed), "--since", "30d", "--archive", str(tmp_path / "old.jsonl")], url).stdout
    assert f"{both['replayed']} decision(s) replayed (4 from archives), 2 would go the other way" in text
    lines = (tmp_path / "old.jsonl").read_text().splitlines()
    flipped = [json.dumps({**json.loads(lines[0]), "allowed": not json.loads(lines[0])["allowed"]}), *lines[1:]]
    for name, body, said in (("flipped", flipped, "entry 1: its content does not match its hash"),
                             ("garbage", [lines[0], "{not json", *lines[2:]], "line 2"),
                             ("short", lines[:-1], "the archives end at entry")):
        (tmp_path / name).write_text("\n".join(body) + "\n")
        bad = _impact([str(changed), "--since", "30d", "--archive", str(tmp_path / name)], url)
        assert bad.returncode == 1 and said in bad.stderr and "nothing replayed" in bad.stderr, (name, bad.stderr)
        assert "replayed" not in bad.stdout.replace("nothing replayed", ""), name
    bad = _impact([str(changed), "--archive", str(tmp_path / "old.jsonl")], url)
    assert bad.returncode == 2 and "give --since too" in bad.stderr


def test_each_archive_is_read_once_so_what_is_replayed_is_what_was_checked(tmp_path):
    """R7.4, decision 046: `--archive FILE` checks each entry as it replays it, reading the file
    once, so a file changed after a first read is never used unchecked. The archive here comes
    through a named pipe, which gives its lines to one reader only: the replay equals the file's."""
    from authz_service.log import audit

    def archive_then_decide(policy) -> None:
        audit.archive(utcnow(), tmp_path / "old.jsonl")
        authorize.authorize(policy, "iris@initech.example", "invoice.download", "initech")

    url = _recorded(tmp_path, ("iris@initech.example", "ike@initech.example"), archive_then_decide)
    changed, pipe = tmp_path / "policies", tmp_path / "pipe.jsonl"
    from_file = _impact([str(changed), "--since", "30d", "--json", "--archive", str(tmp_path / "old.jsonl")], url)
    os.mkfifo(pipe)

    def feed() -> None:
        with open(pipe, "w", encoding="utf-8") as out:
            out.write((tmp_path / "old.jsonl").read_text())

    threading.Thread(target=feed, daemon=True).start()
    try:
        through_pipe = _impact([str(changed), "--since", "30d", "--json", "--archive", str(pipe)], url, seconds=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("the archive was opened a second time (a pipe gives its lines once)") from None
    assert through_pipe.returncode == 0, through_pipe.stderr
    piped, filed = (json.loads(done.stdout)["replay"] for done in (through_pipe, from_file))
    assert piped.pop("since") and filed.pop("since")  # "30d" before each run's own now
    assert piped == filed and filed["archived"] == 4
