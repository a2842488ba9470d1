"""`authz demo`: load the named demo data, print the demo key and a curl line to try."""

import click

from authz_service.cli import demo_key
from authz_service.cli.base import connect, current_settings, load_policy, require_free
from authz_service.store import fixtures


@click.command()
@click.option("--fixtures", "fixture_path", default=str(fixtures.DEFAULT), show_default=True)
@click.option("--key/--no-key", default=True, help="also print the demo key (made once, reused)")
@click.option("--host", default="127.0.0.1", show_default=True, help="for the printed curl line")
@click.option("--port", default=8080, show_default=True, type=int, help="for the printed curl line")
@click.option("--check-port", is_flag=True,
              help="exit 1 before loading anything when HOST:PORT is taken (make run)")
def demo(fixture_path, key, host, port, check_port):
    """Load the named demo data (users, links, services, prices, logins), and print the demo
    key and a curl line to try."""
    # Here, not at the top: demo_activity records logins through the decision log, which imports
    # prometheus_client (via metrics); `authz serve`'s master imports this module before it sets
    # PROMETHEUS_MULTIPROC_DIR for the workers it forks.
    from authz_service.cli import demo_activity

    if check_port:
        require_free(host, port)
    connect()
    fixtures.load(fixture_path)
    added = demo_activity.load(load_policy(None), fixture_path)
    click.echo(f"demo data loaded from {fixture_path} ({added[0]} new services, {added[1]} new logins)")
    if key:
        settings = current_settings()
        value, new = demo_key.ensure(settings)
        state = f"new, valid {demo_key.DAYS} days" if new else "reused"
        click.echo(f"demo key: {value}")
        click.echo(f"  ({state}; kept in {demo_key.path(settings)})")
        url_host = f"[{host}]" if ":" in host else host
        click.echo("try:\n  curl -s -H 'Authorization: Bearer " + value + "' "
                   "-H 'Content-Type: application/json' "
                   "-d '{\"user\": \"rita@acme.example\", \"action\": \"port.create\", "
                   f"\"account\": \"initech\"}}' http://{url_host}:{port}/v1/authorize")
