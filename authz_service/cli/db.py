"""`authz db migrate|backup|restore`: the database."""

import click

from authz_service import store
from authz_service.cli.base import current_settings


@click.group()
def db():
    """The database."""


@db.command("migrate")
def db_migrate():
    """Apply pending schema migrations."""
    from authz_service.store import migrations

    database = store.connect(current_settings().database_url, migrate=False)
    with store.connection():
        applied = migrations.run(database)
    click.echo(f"applied {applied or 'nothing'}; now at {migrations.MIGRATIONS[-1][0]}")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def db_backup(path):
    """Copy the SQLite database to PATH (a new 0600 file), also while the server runs."""
    from authz_service.serving import backup

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
    from authz_service.serving import backup

    try:
        aside, moved = backup.restore(current_settings(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored from {path}; moved aside to {aside}: {', '.join(moved) or 'nothing'}")
