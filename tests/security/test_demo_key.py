"""The demo key and key management on the command line (issue 16 class 10; must-hold 8;
docs/decisions/018-files-backup-keys.md)."""

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.store import keys
from authz_service.store.models import ApiKey, utcnow


@pytest.fixture
def cli(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path}/var/authz.db"
    monkeypatch.setenv("AUTHZ_DATABASE_URL", url)

    def run(*args):
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output
    run.key_file = Path(f"{tmp_path}/var/authz.db.demo-key")
    run.url = url
    return run


def printed_key(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("demo key")).split()[-1]


def live_demo_keys(url) -> list[ApiKey]:
    store.connect(url)
    with store.connection():
        return [k for k in ApiKey.select().where(ApiKey.name == "demo") if k.revoked_at is None]


def test_one_demo_key_reused_across_runs_kept_private(cli):
    """`make run` twice: the same key, one live demo key, expiring in 7 days, kept 0600."""
    first = cli("demo", "--port", "9123")
    second = cli("demo", "--port", "9123")
    assert printed_key(first) == printed_key(second)
    assert "http://127.0.0.1:9123/v1/authorize" in second and ":8080" not in second
    assert stat.S_IMODE(cli.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.key_file.parent.stat().st_mode) == 0o700
    assert cli.key_file.read_text().strip() == printed_key(first)
    (live,) = live_demo_keys(cli.url)
    assert timedelta(days=6, hours=23) < live.expires_at - utcnow() <= timedelta(days=7)


def test_a_revoked_or_expired_demo_key_is_replaced(cli):
    """After `authz keys revoke demo`, or once it expired, the next run makes a new one; an old
    never-expiring demo key (made by earlier versions) is revoked then."""
    first = printed_key(cli("demo"))
    cli("keys", "revoke", "demo")
    second = printed_key(cli("demo"))
    assert second != first
    with store.connection():
        ApiKey.update(expires_at=utcnow() - timedelta(seconds=1)).where(ApiKey.name == "demo").execute()
        old = keys.create("demo", ["decide", "manage", "audit"])  # never expires
    third = printed_key(cli("demo"))
    assert third not in (first, second)
    with store.connection():
        assert keys.find(old) is None and keys.find(second) is None and keys.find(third) is not None


def test_keys_list_shows_state_never_the_secret(cli):
    """`authz keys list`: name, scopes, created, expires, state; no key, no digest."""
    demo = printed_key(cli("demo"))
    made = cli("keys", "create", "billing", "--scope", "decide", "--expires-in-days", "30").strip()
    cli("keys", "create", "old", "--scope", "audit")
    cli("keys", "revoke", "old")
    listing = cli("keys", "list")
    lines = {line.split()[0]: line for line in listing.splitlines()[1:]}
    assert lines["billing"].split()[1] == "decide" and lines["billing"].endswith("live")
    assert "never" in lines["old"] and "revoked" in lines["old"]
    assert lines["demo"].split()[1] == "audit,decide,manage"
    with store.connection():
        digests = [k.key_hash for k in ApiKey.select()]
    for secret in [demo, made, *digests]:
        assert secret not in listing and secret[4:20] not in listing


def test_revoking_an_unknown_key_says_so(cli):
    result = CliRunner().invoke(main, ["keys", "revoke", "nobody"])
    assert result.exit_code == 1 and "no live key named nobody" in result.output
