"""`authz keys create|list|revoke`: API keys (only their digests are stored)."""

from datetime import timedelta

import click

from authz_service.cli.base import connect
from authz_service.store import NotFound
from authz_service.store.keys import create, list_keys, revoke
from authz_service.store.models import utcnow


@click.group()
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
    connect()
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    click.echo(create(name, list(scopes), expires))


@keys.command("list")
def keys_list():
    """Every key's name, scopes, creation, expiry and state (never the key itself)."""
    connect()
    now = utcnow()
    rows = [("NAME", "SCOPES", "CREATED", "EXPIRES", "STATE")]
    for k in list_keys():
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
    connect()
    try:
        click.echo(f"revoked {revoke(name)} key(s) named {name}")
    except NotFound:
        raise click.ClickException(f"no live key named {name}") from None
