"""Shared fixtures: a fresh database per test, loaded with the named demo data (authz_service/data/demo.toml)."""

import pytest

from authz_service import store
from authz_service.app import create_app
from authz_service.store import fixtures
from authz_service.store import keys as store_keys
from tests.support import backends
from tests.support.auth import BOOTSTRAP, bearer
from tests.support.reads import close_database


@pytest.fixture(params=backends.available())
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: a new SQLite file, or the emptied test PostgreSQL."""
    if request.param == "postgres":
        return backends.postgres_url()
    return f"sqlite:///{tmp_path}/authz.db"


@pytest.fixture(params=backends.available())
def empty_url(request, tmp_path) -> str:
    """A database with no tables at all (the migration tests)."""
    if request.param == "postgres":
        return backends.postgres_url(drop=True)
    return f"sqlite:///{tmp_path}/empty.db"


@pytest.fixture
def app(database_url, tmp_path):
    """The service on a fresh database, with authz_service/data/demo.toml loaded."""
    application = create_app({"database_url": database_url, "bootstrap_key": BOOTSTRAP,
                              "policy_poll_seconds": 0, **backends.side_files(database_url, tmp_path)},
                             migrate=True)
    with store.connection():
        fixtures.load()
    yield application
    close_database()


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def keys(app):
    """One key per single scope, plus the bootstrap key under "all"."""
    with store.connection():
        made = {scope: store_keys.create(f"test-{scope}", [scope])
                for scope in ("decide", "manage", "audit")}
    made["all"] = BOOTSTRAP
    return made


class Api:
    """Small helpers over the test client, with the bootstrap key."""

    def __init__(self, client):
        self.client = client

    def authorize(self, user, action, account=None, **extra):
        body = {"user": user, "action": action, **extra}
        if account is not None:
            body["account"] = account
        return self.client.post("/v1/authorize", json=body, headers=bearer())

    def allowed(self, user, action, account, **extra) -> bool:
        response = self.authorize(user, action, account, **extra)
        assert response.status_code == 200, response.json
        return response.json["allowed"]


@pytest.fixture
def api(client):
    """Helpers over the test client."""
    return Api(client)


def pytest_terminal_summary(terminalreporter):
    """The soak table: requests tried, faults injected, 500s, entries lost, unauthorized changes."""
    from tests.support import soak

    lines = soak.table()
    if lines:
        terminalreporter.section(f"reliability and security summary (AUTHZ_SOAK={soak.SCALE})")
        for line in lines:
            terminalreporter.write_line(line)
