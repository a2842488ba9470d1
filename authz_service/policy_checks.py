"""Running the decision tables of policies/tests/ against the named fixtures (R9.3)."""

from pathlib import Path

from authz_service import fixtures, policy, store
from authz_service.facts import gather
from authz_service.policy import NONE, Facts, tables
from authz_service.store import directory


def run_tables(policy_dir: Path | str, fixture_path: Path | str = fixtures.DEFAULT) -> list[str]:
    """Load the policy and the fixtures into a scratch database; return every failing row."""
    loaded = policy.load(policy_dir)
    rows = tables.read(Path(policy_dir), loaded.vocab)
    store.connect("sqlite:///:memory:")
    fixtures.load(fixture_path)

    def decide(user: str, action: str, account: str):
        verdict = loaded.decide(gather(user, account).facts, action)
        return verdict.allowed, verdict.group

    def decide_as(group: str, action: str, account: str) -> bool:
        found = directory.get_account(account)
        kind = found["kind"] if found else NONE
        return loaded.decide(Facts(kind, "home", group, NONE, "none"), action).allowed

    try:
        return tables.run(rows, loaded.vocab, decide, decide_as)
    finally:
        store.close()
