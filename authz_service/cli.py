"""`authz`: serve, worker, keys, policy check|test|matrix, demo, db migrate, log verify|archive."""

import sqlite3
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

import click

from authz_service import fixtures, policy, ports, store
from authz_service.config import Settings
from authz_service.policy import PolicyError, matrix

MATRIX_FILE = Path("docs/permissions.md")


class _Commands(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except store.Unconfirmed as exc:  # stored, but a server's facts cache did not confirm it
            raise click.ClickException(f"{exc}; check the change, then retry") from None


@click.group(cls=_Commands)
def main():
    """authz-service: policy-as-code authorization for a partner portal."""


def _settings() -> Settings:
    return Settings.from_env()


def _connect() -> None:
    store.connect(_settings().database_url)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=1, show_default=True, type=int)
def serve(host, port, workers, threads):
    """Run the service under gunicorn; exit 1 at once when HOST:PORT is taken."""
    from authz_service.serve import run

    _require_free(host, port)
    run(host, port, workers, threads)


def _require_free(host: str, port: int) -> None:
    try:
        ports.require_free(host, port)
    except ports.PortUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--once", is_flag=True, help="send what is due now, then exit")
def worker(once):
    """Run the mail sender alone: deliver the outbox over AUTHZ_SMTP_URL (R8.3) until stopped."""
    import logging
    import signal

    from authz_service import mailer

    settings = _settings()
    if not settings.smtp_url:
        raise click.ClickException("AUTHZ_SMTP_URL is not set: mail stays in the outbox")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        sender = mailer.Sender(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    store.connect(settings.database_url)
    if once:
        click.echo(f"handled {sender.drain()} notification(s)")
        return
    signal.signal(signal.SIGTERM, lambda *_: sender.stop())
    try:
        sender.serve()
    except KeyboardInterrupt:
        sender.stop()


@main.group()
def keys():
    """API keys."""


@keys.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["decide", "manage", "audit"]))
@click.option("--expires-in-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="the key stops working after this many days")
def keys_create(name, scopes, expires_in_days):
    """Print a new key with the given scopes (shown once; only its digest is kept)."""
    from datetime import timedelta

    from authz_service.store import keys as store_keys
    from authz_service.store.models import utcnow

    _connect()
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    click.echo(store_keys.create(name, list(scopes), expires))


@keys.command("list")
def keys_list():
    """Every key's name, scopes, creation, expiry and state (never the key itself)."""
    from authz_service.store import keys as store_keys
    from authz_service.store.models import utcnow

    _connect()
    now = utcnow()
    rows = [("NAME", "SCOPES", "CREATED", "EXPIRES", "STATE")]
    for k in store_keys.list_keys():
        state = ("revoked " + _when(k["revoked_at"]) if k["revoked_at"]
                 else "expired" if k["expires_at"] and k["expires_at"] <= now else "live")
        rows.append((k["name"], k["scopes"], _when(k["created_at"]), _when(k["expires_at"]) or "never", state))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[4])


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") + " UTC" if value else ""


@keys.command("revoke")
@click.argument("name")
def keys_revoke(name):
    """Revoke every key with this name."""
    from authz_service.store import NotFound
    from authz_service.store import keys as store_keys

    _connect()
    try:
        click.echo(f"revoked {store_keys.revoke(name)} key(s) named {name}")
    except NotFound:
        raise click.ClickException(f"no live key named {name}") from None


@main.group(name="policy")
def policy_group():
    """Check, test and document the policy files."""


def _dir_option(fn):
    return click.option("--dir", "policy_dir", default=None,
                        help="policy directory (default AUTHZ_POLICY_DIR or policies/)")(fn)


def _load(policy_dir):
    try:
        return policy.load(policy_dir or _settings().policy_dir)
    except PolicyError as exc:
        for file, line, message in exc.problems:
            click.echo(f"{file}:{line}: {message}", err=True)
        sys.exit(1)


@policy_group.command("check")
@_dir_option
def policy_check(policy_dir):
    """Syntax, known groups and actions, every action tested (R9.2)."""
    loaded = _load(policy_dir)
    click.echo(f"policy {loaded.version}: {len(loaded.rules)} rules, "
               f"{len(loaded.vocab.actions)} actions, {len(loaded.table)} table cells: ok")


@policy_group.command("test")
@_dir_option
@click.option("--fixtures", "fixture_path", default=str(fixtures.DEFAULT), show_default=True)
@click.option("--junit", "junit_path", default=None, help="also write a JUnit XML report here")
def policy_test(policy_dir, fixture_path, junit_path):
    """Run the decision tables under policies/tests/ (R9.3)."""
    from authz_service.policy_checks import run_report

    report = run_report(_load(policy_dir or _settings().policy_dir), fixture_path)
    for failure in report.failures:
        click.echo(failure, err=True)
    if junit_path:
        Path(junit_path).write_text(report.junit(), encoding="utf-8")
    click.echo(f"{report.passed} passed, {report.failed} failed")
    sys.exit(1 if report.failures else 0)


@policy_group.command("diff")
@click.argument("old_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("new_dir", type=click.Path(exists=True, file_okay=False))
def policy_diff(old_dir, new_dir):
    """Print the (kind, group, action) cells and scoping cells that change from OLD to NEW."""
    from authz_service.policy.diff import diff

    lines = diff(_load(old_dir), _load(new_dir))
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} cell(s) change")


@policy_group.command("matrix")
@_dir_option
@click.option("--out", default=str(MATRIX_FILE), show_default=True)
@click.option("--check", is_flag=True, help="fail if the committed file is out of date")
def policy_matrix(policy_dir, out, check):
    """Write the group x action matrix (R9.4)."""
    text = matrix.render(_load(policy_dir))
    path = Path(out)
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            click.echo(f"{out} is out of date: run `authz policy matrix`", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


@main.command()
@click.option("--fixtures", "fixture_path", default=str(fixtures.DEFAULT), show_default=True)
@click.option("--key/--no-key", default=True, help="also print the demo key (made once, reused)")
@click.option("--host", default="127.0.0.1", show_default=True, help="for the printed curl line")
@click.option("--port", default=8080, show_default=True, type=int, help="for the printed curl line")
@click.option("--check-port", is_flag=True,
              help="exit 1 before loading anything when HOST:PORT is taken (make run)")
def demo(fixture_path, key, host, port, check_port):
    """Load the named demo data (users, links, services, prices, logins), and print the demo
    key and a curl line to try."""
    from authz_service import demo_activity, demo_key

    if check_port:
        _require_free(host, port)
    _connect()
    fixtures.load(fixture_path)
    added = demo_activity.load(_load(None), fixture_path)
    click.echo(f"demo data loaded from {fixture_path} ({added[0]} new services, {added[1]} new logins)")
    if key:
        settings = _settings()
        value, new = demo_key.ensure(settings)
        state = f"new, valid {demo_key.DAYS} days" if new else "reused"
        click.echo(f"demo key: {value}")
        click.echo(f"  ({state}; kept in {demo_key.path(settings)})")
        url_host = f"[{host}]" if ":" in host else host
        click.echo("try:\n  curl -s -H 'Authorization: Bearer " + value + "' "
                   "-H 'Content-Type: application/json' "
                   "-d '{\"user\": \"rita@acme.example\", \"action\": \"port.create\", "
                   f"\"account\": \"initech\"}}' http://{url_host}:{port}/v1/authorize")


@main.group()
def db():
    """The database."""


@db.command("migrate")
def db_migrate():
    """Apply pending schema migrations."""
    from authz_service.store import migrations

    database = store.connect(_settings().database_url, migrate=False)
    with store.connection():
        applied = migrations.run(database)
    click.echo(f"applied {applied or 'nothing'}; now at {migrations.MIGRATIONS[-1][0]}")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def db_backup(path):
    """Copy the SQLite database to PATH (a new 0600 file), also while the server runs."""
    from authz_service import backup

    try:
        backup.backup(_settings(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up to {path}")


@db.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def db_restore(path):
    """Replace the SQLite database with the backup PATH; the server must be stopped. The old
    database, its -wal/-shm and spool files are moved aside, not deleted."""
    from authz_service import backup

    try:
        aside, moved = backup.restore(_settings(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored from {path}; moved aside to {aside}: {', '.join(moved) or 'nothing'}")


@main.group(name="log")
def log_group():
    """The decision log: verify its hash chain, archive old entries (R7.4)."""


def _store_left_spools() -> None:
    """Entries a killed server left in its spool are stored first (a running server's are its own)."""
    from authz_service import log_server

    stored = log_server.recover(_settings())
    if stored:
        click.echo(f"{stored} spooled records left by a server that is gone are stored", err=True)


@contextmanager
def _readable_log():
    """A database that cannot be read (malformed, truncated, a table missing, unreachable)
    ends a log command with a clear message and exit status 2, never a traceback."""
    import psycopg

    try:
        yield
    except (store.DatabaseError, sqlite3.DatabaseError, psycopg.Error) as exc:
        reason = str(exc).strip().replace("\n", " ") or type(exc).__name__
        click.echo(f"cannot read the decision log: {reason} (database "
                   f"{_settings().database_url.split('@')[-1]}); see docs/operating.md, "
                   "\"Backup and restore\"", err=True)
        with suppress(Exception):  # closing a broken database may fail too
            store.close()
        sys.exit(2)


@log_group.command("verify")
@click.option("--archive", "archives", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="archive files (JSON lines), oldest first: verify from entry 1 through them")
def log_verify(archives):
    """Walk the chain; exit 1 naming the first entry that does not match, 2 when the
    database cannot be read."""
    from authz_service import audit

    with _readable_log():
        _connect()
        with store.connection():
            _store_left_spools()
            verdict = audit.verify(Path(a) for a in archives)
    if verdict.problem:
        who = f" (decision {verdict.bad_id})" if verdict.bad_id else ""
        click.echo(f"FAILED at entry {verdict.bad_seq}{who}: {verdict.problem}; "
                   f"{verdict.checked} entries before it match", err=True)
        sys.exit(1)
    click.echo(f"ok: {verdict.checked} entries verified; last entry {verdict.last_seq}, "
               f"hash {verdict.last_hash}")


@log_group.command("archive")
@click.option("--before", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="UTC date (or date and time): archive the entries recorded before it")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="a new JSON lines file")
def log_archive(before, out):
    """Move the oldest entries, up to the first recorded at or after BEFORE, into a file."""
    from authz_service import audit

    try:
        with _readable_log():
            _connect()
            with store.connection():
                _store_left_spools()
                count = audit.archive(before, Path(out))
    except (FileExistsError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"archived {count} entries to {out}" if count else "nothing to archive")
