"""create_app(): the one place that wires settings, database, policy, mail sender and API;
start(): the explicit step that starts the app's background threads (docs/decisions/023-start-up.md)."""

from dataclasses import dataclass

from flask import Flask

from authz_service import api, policy, store
from authz_service.api.fast import FastAuthorize
from authz_service.config import Settings
from authz_service.mail import sender
from authz_service.portal import link_ends
from authz_service.serving.policy_watch import PolicyWatch


@dataclass
class State:
    """What every request needs: settings, the loaded policy, the API object; the policy watch
    and the outbox sender, whose threads run only once start() was called."""

    settings: Settings
    policy: policy.Policy
    api: object = None
    watch: PolicyWatch | None = None
    mailer: sender.Sender | None = None
    sweeper: link_ends.Sweeper | None = None


def create_app(config: dict | None = None, migrate: bool = False) -> Flask:
    """Build the app: settings, database, policy (refusing to start on a bad one, R9.2), API.

    Binds the database and nothing more: no thread starts (start() does that) and the schema
    is migrated only when asked (tests, dev); `authz serve` migrates once in its master,
    before forking, and `authz db migrate` on demand.
    """
    settings = Settings.from_env(config)
    app = Flask(__name__)
    app.config["AUTHZ"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    store.connect(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, migrate=migrate)
    state = State(settings, policy.load(settings.policy_dir))
    state.watch = PolicyWatch(state, settings.policy_poll_seconds)
    state.mailer = sender.Sender(settings)  # a bad AUTHZ_SMTP_URL is refused here, at start
    sender.register_gauges()
    state.sweeper = link_ends.Sweeper(settings.link_sweep_seconds)
    app.extensions["authz"] = state
    state.api = api.init_app(app)
    if settings.fast_authorize:  # the hot path, with Flask as fallback and reference
        app.wsgi_app = FastAuthorize(app.wsgi_app, state, api.request_id_for)  # type: ignore[method-assign]  # Flask's way to wrap it

    @app.before_request
    def _open_db():
        store.database.connect(reuse_if_open=True)

    @app.teardown_request
    def _release_db(_exc):
        store.release()

    return app


def start(app: Flask) -> Flask:
    """Start the app's background threads: the policy watch (R9.6, every policy_poll_seconds)
    the outbox sender (R8.3, when SMTP is configured) and the link sweeper (R10.1). `authz serve` calls this in each
    worker; tests only when they need the threads."""
    state = app.extensions["authz"]
    state.watch.start()
    state.mailer.start()
    state.sweeper.start()  # R10.1: ended links removed, their ends recorded
    return app
