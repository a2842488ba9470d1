"""`authz policy impact` is exact (R9.7): on a random directory its gained and lost (user, account,
action) triples equal those found by asking both policies about every (user, account, action)."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from authz_service import store
from authz_service.decide.gather import gather
from authz_service.decide.impact import impact
from authz_service.policy import PolicyError
from authz_service.store import directory, fixtures
from tests.support.policy_scratch import GROUPS, POLICIES, build, mutate, policy_files

BASE = {n: t for n, t in policy_files().items() if n != "invariants.toml"}  # random policies break them
ROOT = Path(__file__).resolve().parents[2]


def random_directory(rng: random.Random) -> None:
    """Partners, customers, users of every group (and one the policies do not know) and links."""
    for p in range(3):
        partner = f"p{p}"
        directory.put_partner(partner, partner)
        customers = [f"c{p}{c}" for c in range(rng.randint(1, 3))]
        for customer in customers:
            directory.put_customer(customer, customer, partner)
            for u in range(rng.randint(0, 2)):
                directory.put_user(f"u{u}@{customer}.example", customer, "customer", rng.choice(GROUPS))
        for u in range(rng.randint(2, 6)):
            email = f"u{u}@{partner}.example"
            directory.put_user(email, partner, "partner", rng.choice([*GROUPS, "sales"]))
            for customer in customers:
                if rng.random() < 0.5:
                    directory.put_link(email, customer, rng.choice(GROUPS))


def one_by_one(old, new) -> tuple[set, set]:
    """Ask both policies about every (user, account, action) of the directory, without a session."""
    accounts = directory.list_accounts()
    users = [u["email"] for a in accounts for u in directory.users_of(a["id"])]
    actions = sorted(set(old.vocab.actions) | set(new.vocab.actions))
    gained, lost = set(), set()
    for user in users:
        for account in accounts:
            facts = gather(user, account["id"]).facts
            partner = account["partner_id"] or account["id"]
            for action in actions:
                was, now = old.decide(facts, action).allowed, new.decide(facts, action).allowed
                if was != now:
                    (gained if now else lost).add((user, account["id"], action, partner))
    return gained, lost


def _policy(seed: int, steps: int):
    for attempt in range(20):  # a mutation may give one `who` two groups: refused, try the next
        try:
            return build(mutate(BASE, random.Random(seed * 100 + attempt), steps))
        except PolicyError:
            continue
    raise AssertionError("no valid random policy")


@pytest.mark.parametrize("seed", range(6))
def test_impact_equals_asking_both_policies_one_by_one(database_url, seed):
    rng = random.Random(seed)
    store.connect(database_url, migrate=True)
    try:
        with store.connection():
            random_directory(rng)
            old, new = build(BASE), _policy(seed, rng.randint(1, 5))
            result = impact(old, new)
            gained, lost = one_by_one(old, new)
    finally:
        store.close()
    assert set(result.gained) == gained and len(result.gained) == len(gained)
    assert set(result.lost) == lost and len(result.lost) == len(lost)
    assert sum(c["gained"] for c in result.per_partner().values()) == len(gained)


def test_the_command_lists_and_counts_per_partner(tmp_path):
    url = f"sqlite:///{tmp_path}/live.db"
    store.connect(url, migrate=True)
    with store.connection():
        fixtures.load()
    store.close()
    changed = tmp_path / "policies"
    for name, text in policy_files().items():
        (changed / name).parent.mkdir(parents=True, exist_ok=True)
        (changed / name).write_text(text.replace("p, read_only, *, invoice: view download, allow",
                                                 "p, read_only, *, invoice: view, allow"))
    authz = str(Path(sys.executable).with_name("authz"))
    env = {"PATH": "/usr/bin:/bin", "AUTHZ_DATABASE_URL": url, "AUTHZ_POLICY_DIR": str(POLICIES)}
    done = subprocess.run([authz, "policy", "impact", str(changed), "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["gained"] == [] and answer["lost"]
    assert {t["action"] for t in answer["lost"]} == {"invoice.download"}
    assert answer["partners"] == {p: {"gained": 0, "lost": sum(t["partner"] == p for t in answer["lost"])}
                                  for p in {t["partner"] for t in answer["lost"]}}
