"""What the `authz` commands share: settings, the database connection, the policy, a free port."""

import sys

import click

from authz_service import policy, store
from authz_service.config import Settings
from authz_service.policy import PolicyError
from authz_service.serving import ports


def current_settings() -> Settings:
    """AUTHZ_* settings, read when a command runs."""
    return Settings.from_env()


def connect() -> None:
    """Open the database the settings name, its schema brought up to date first (under the
    migration lock): a command may be the first to meet a new database (`authz demo`)."""
    store.connect(current_settings().database_url, migrate=True)


def load_policy(policy_dir):
    """The policy in policy_dir (or the settings' folder); exit 1 naming each problem's file and line."""
    try:
        return policy.load(policy_dir or current_settings().policy_dir)
    except PolicyError as exc:
        for file, line, message in exc.problems:
            click.echo(f"{file}:{line}: {message}", err=True)
        sys.exit(1)


def require_free(host: str, port: int) -> None:
    """Exit 1 at once, naming the address, when HOST:PORT is taken."""
    try:
        ports.require_free(host, port)
    except ports.PortUnavailable as exc:
        raise click.ClickException(str(exc)) from None
