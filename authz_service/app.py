"""create_app(): the one place that wires settings, database, policy, mail sender and API."""

from dataclasses import dataclass

from flask import Flask

from authz_service import policy, store
from authz_service.config import Settings
from authz_service.serving.policy_watch import PolicyWatch


@dataclass
class State:
    """What every request needs: settings, the loaded policy, the API object."""

    settings: Settings
    policy: policy.Policy
    api: object = None
    watch: object = None
    mailer: object = None


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, database, policy (refusing to start on a bad one, R9.2), API."""
    # Imported here, in the worker: prometheus_client must see PROMETHEUS_MULTIPROC_DIR first.
    from authz_service import api
    from authz_service.mail import sender

    settings = Settings.from_env(config)
    app = Flask(__name__)
    app.config["AUTHZ"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    store.connect(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    state = State(settings, policy.load(settings.policy_dir))
    state.watch = PolicyWatch(state, settings.policy_poll_seconds).start()
    state.mailer = sender.start(settings)  # the outbox sender thread (R8.3), when SMTP is configured
    app.extensions["authz"] = state
    state.api = api.init_app(app)
    if settings.fast_authorize:  # the hot path, with Flask as fallback and reference
        from authz_service.api.fast import FastAuthorize

        app.wsgi_app = FastAuthorize(app.wsgi_app, state, api.request_id_for)  # type: ignore[method-assign]  # Flask's way to wrap it

    @app.before_request
    def _open_db():
        store.database.connect(reuse_if_open=True)

    @app.teardown_request
    def _release_db(_exc):
        store.release()

    return app
