"""`authz log verify|archive|key|checkpoint`: the decision log's hash chain, archives (R7.4), its
Merkle tree's signed checkpoints (R7.6)."""

import os
import sqlite3
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

import click
import psycopg

from authz_service import store
from authz_service.cli.base import connect, current_settings


@click.group(name="log")
def log_group():
    """The decision log: verify its hash chain, archive old entries (R7.4)."""


def _store_left_spools() -> None:
    """Entries a killed server left in its spool are stored first (a running server's are its own)."""
    # Here and below, not at the top: the log's modules import prometheus_client (via metrics);
    # `authz serve`'s master imports this module before it sets PROMETHEUS_MULTIPROC_DIR.
    from authz_service.log import server

    stored = server.recover(current_settings())
    if stored:
        click.echo(f"{stored} spooled records left by a server that is gone are stored", err=True)


@contextmanager
def _readable_log():
    """A database that cannot be read (malformed, truncated, a table missing, unreachable)
    ends a log command with a clear message and exit status 2, never a traceback."""
    try:
        yield
    except (store.DatabaseError, sqlite3.DatabaseError, psycopg.Error) as exc:
        reason = str(exc).strip().replace("\n", " ") or type(exc).__name__
        click.echo(f"cannot read the decision log: {reason} (database "
                   f"{current_settings().database_url.split('@')[-1]}); see docs/operating.md, "
                   "\"Backup and restore\"", err=True)
        with suppress(Exception):  # closing a broken database may fail too
            store.close()
        sys.exit(2)


@log_group.command("verify")
@click.option("--archive", "archives", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="archive files (JSON lines), oldest first: verify from entry 1 through them")
@click.option("--checkpoint", "checkpoint", type=click.Path(exists=True),
              help="a signed checkpoint, or the witness folder: the log must extend every one (R7.6)")
@click.option("--key", "verifier", help="the verifier key checkpoints must be signed by "
              "(default: the log key's, AUTHZ_LOG_KEY_FILE)")
def log_verify(archives, checkpoint, verifier):
    """Walk the chain (and with --checkpoint the Merkle tree); exit 1 naming what does not
    match, 2 when the database cannot be read."""
    from authz_service.log import audit  # here: see _store_left_spools

    if checkpoint:
        return _verify_checkpoints(checkpoint, verifier, archives)
    with _readable_log():
        connect()
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
    from authz_service.log import audit  # here: see _store_left_spools

    try:
        with _readable_log():
            connect()
            with store.connection():
                _store_left_spools()
                count = audit.archive(before, Path(out))
    except (FileExistsError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"archived {count} entries to {out}" if count else "nothing to archive")


def _verify_checkpoints(path: str, verifier: str | None, archives) -> None:
    """`verify --checkpoint`: the stored log against every signed checkpoint in PATH (R7.6)."""
    from authz_service.log import chain, checkpoints, signing, witness  # here: _store_left_spools

    try:
        key = signing.Verifier(verifier) if verifier else signing.Verifier(
            checkpoints.signer(current_settings()).verifier())
    except signing.NoteError as exc:
        raise click.ClickException(str(exc)) from None
    with _readable_log():
        connect()
        with store.connection():
            _store_left_spools()
            chain.sync()
            report = witness.verify(path, key, [Path(a) for a in archives])
    for problem in report.breaks:
        click.echo(f"FAILED: {problem}", err=True)
    if report.breaks:
        sys.exit(1)
    click.echo(f"ok: {report.entries} entries extend {len(report.matched)} checkpoints signed by {key.name}")


@log_group.command("key")
def log_key():
    """Print the verifier key of the log's checkpoints (made on first use, R7.6)."""
    from authz_service.log import checkpoints  # here: see _store_left_spools

    click.echo(checkpoints.signer(current_settings()).verifier())


@log_group.command("checkpoint")
def log_checkpoint():
    """Sign a checkpoint of the log now, keep it in the witness folder and print it (R7.6)."""
    from authz_service.log import chain, checkpoints  # here: see _store_left_spools

    with _readable_log():
        connect()
        with store.connection():
            _store_left_spools()
            chain.sync()
            click.echo(checkpoints.make(current_settings()), nl=False)


def _account_id(ctx, param, value: str) -> str:
    """An account id a log can hold (R7.2): no NUL or lone surrogate, at most 64 characters (models.Account.id)."""
    from authz_service.log import values

    if not values.faithful(value) or not 0 < len(value) <= 64:
        raise click.BadParameter("not an account id (1-64 characters, no NUL or lone surrogate)")
    return value


@log_group.command("export")
@click.option("--account", required=True, callback=_account_id, help="the account whose activity log is exported (R7.2)")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="UTC date (or date and time): only the entries recorded at or after it")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="a new file")
def log_export(account, since, out):
    """Write ACCOUNT's entries, each with its inclusion proof, and a signed checkpoint they are
    proven against, to a file a customer checks offline (R7.6; docs/operating.md)."""
    from authz_service.log import chain, export, signing, tree  # here: see _store_left_spools

    try:
        with _readable_log():
            connect()
            with store.connection():
                _store_left_spools()
                chain.sync()
                with open(out, "x", encoding="utf-8") as file:
                    count = export.write(current_settings(), account, since, file)
    except FileExistsError:
        raise click.ClickException(f"{out} exists; exports are never overwritten") from None
    except (OSError, ValueError, signing.NoteError, tree.MissingLeaves) as exc:
        with suppress(OSError):
            os.unlink(out)
        raise click.ClickException(f"nothing exported: {exc}") from None
    click.echo(f"exported {count} entries of account {account} to {out}")


@log_group.command("check-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "verifier", required=True, help="the log's verifier key (`authz log key`), or a file holding it")
def log_check_export(file, verifier):
    """Check an exported file without the service or its database: exit 1 naming what does not hold."""
    try:
        from authz_client import export_check  # the client package's checker, the one customers run
    except ImportError:
        raise click.ClickException("checking an export needs the client package: "
                                   "pip install 'authz-client[verify]' (clients/python)") from None
    sys.exit(export_check.main([file, "--key", verifier]))
