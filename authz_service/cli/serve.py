"""`authz serve` (the service under gunicorn) and `authz worker` (the mail sender alone)."""

import logging
import signal

import click

from authz_service import store
from authz_service.cli.base import current_settings, require_free
from authz_service.serving.serve import run


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=1, show_default=True, type=int)
@click.option("--server", type=click.Choice(["gunicorn", "granian"]), default="gunicorn", show_default=True, envvar="AUTHZ_SERVER",
              help="the HTTP front (docs/decisions/032-serving.md)")
def serve(host, port, workers, threads, server):
    """Run the service under gunicorn (or granian: --server); exit 1 at once when HOST:PORT is taken."""
    require_free(host, port)
    run(host, port, workers, threads, server)


@click.command()
@click.option("--once", is_flag=True, help="send what is due now, then exit")
def worker(once):
    """Run the mail sender alone: deliver the outbox over AUTHZ_SMTP_URL (R8.3) until stopped."""
    # Here, not at the top: sender imports prometheus_client (via metrics), which `authz serve`'s
    # master must not import before it sets PROMETHEUS_MULTIPROC_DIR for its workers.
    from authz_service.mail import sender

    settings = current_settings()
    if not settings.smtp_url:
        raise click.ClickException("AUTHZ_SMTP_URL is not set: mail stays in the outbox")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        outbox_sender = sender.Sender(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    store.connect(settings.database_url, migrate=True)  # under the migration lock, like `authz serve`
    if once:
        click.echo(f"handled {outbox_sender.drain()} notification(s)")
        return
    signal.signal(signal.SIGTERM, lambda *_: outbox_sender.stop())
    try:
        outbox_sender.serve()
    except KeyboardInterrupt:
        outbox_sender.stop()
