"""`authz db migrate|status|backup|restore`: the database."""

import click

from authz_service import store
from authz_service.cli.base import current_settings
from authz_service.serving import backup
from authz_service.store import migrations


@click.group()
def db():
    """The database."""


@db.command("migrate")
def db_migrate():
    """Apply pending schema migrations."""
    database = store.connect(current_settings().database_url)
    with store.connection():
        applied = migrations.run(database)
        now_at = migrations.current_version(database)
    click.echo(f"applied {applied or 'nothing'}; now at {now_at}")


@db.command("status")
def db_status():
    """Print the schema's version and any pending migrations; exit 1 when some are pending."""
    database = store.connect(current_settings().database_url)
    with store.connection():
        now_at = migrations.current_version(database)
        pending = [version for version, _ in migrations.MIGRATIONS
                   if now_at == 0 or not migrations.is_applied(database, version)]
    click.echo(f"at {now_at}; pending {pending or 'nothing'}")
    if pending:
        raise SystemExit(1)


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def db_backup(path):
    """Copy the SQLite database to PATH (a new 0600 file), also while the server runs."""
    try:
        backup.backup(current_settings(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up to {path}")


@db.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def db_restore(path):
    """Replace the SQLite database with the backup PATH; the server must be stopped. The old
    database, its -wal/-shm and spool files are moved aside, not deleted."""
    try:
        aside, moved = backup.restore(current_settings(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored from {path}; moved aside to {aside}: {', '.join(moved) or 'nothing'}")
