"""Console sessions, secret, headers and verification (issue 16 class 9, must-hold 7): sessions
end server-side at sign-out, the signing secret is a 0600 file outside the database, every console
response forbids framing, and the log's verification never runs in a request."""

import os
import stat

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from authz_service import store
from authz_service.app import create_app
from authz_service.secret_file import ExposedSecret, console_secret_path
from authz_service.store.models import ConsoleSession, Setting
from tests.support.auth import BOOTSTRAP
from tests.support.console import csrf, make_key, sign_in

COOKIE = "authz_console"


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _is_signed_in(app, cookie: str) -> bool:
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, cookie)
    return fresh.get("/console/policy").status_code == 200


def test_a_copy_of_the_cookie_is_useless_after_sign_out(app, client):
    """Sign-out deletes the server-side session: the same cookie, replayed, signs nobody in."""
    sign_in(client, make_key("auditor", ["audit"]))
    copy = _cookie(client)
    assert _is_signed_in(app, copy)
    client.post("/console/signout", data={"csrf_token": csrf(client)})
    assert not _is_signed_in(app, copy)
    with store.connection():
        assert ConsoleSession.select().count() == 0


def test_only_a_hash_of_the_session_id_is_stored(app, client):
    """The table keeps a SHA-256 of the id and the key's digest, never the id or the key."""
    key = make_key("auditor", ["audit"])
    sign_in(client, key)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    session_id = serializer.loads(_cookie(client))["sid"]
    with store.connection():
        rows = list(ConsoleSession.select().dicts())
    assert len(rows) == 1 and session_id not in str(rows) and key not in str(rows)


def test_an_expired_session_signs_nobody_in(app, client):
    """Past its expiry (AUTHZ_CONSOLE_SESSION_HOURS) the session is refused."""
    sign_in(client, make_key("auditor", ["audit"]))
    with store.connection():
        ConsoleSession.update(expires_at=ConsoleSession.created_at).execute()
    assert not _is_signed_in(app, _cookie(client))


def test_a_copy_of_the_database_cannot_mint_a_cookie(app, client, database_url):
    """Everything the database holds (settings, session hashes, key digests) signs no cookie that
    the console accepts; the secret is not in the database (R7.6's habit)."""
    sign_in(client, BOOTSTRAP)
    secret = app.secret_key if isinstance(app.secret_key, bytes) else app.secret_key.encode()
    with store.connection():
        values = [row.value for row in Setting.select()]
        hashes = [row.id_hash for row in ConsoleSession.select()]
    assert not any(v.encode() == secret for v in values)
    if database_url.startswith("sqlite:///"):
        with open(database_url[len("sqlite:///"):], "rb") as raw:
            assert secret not in raw.read()
    for value in values:
        forger = Flask("forger")
        forger.secret_key = value
        serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
        for sid in hashes:
            assert not _is_signed_in(app, serializer.dumps({"sid": sid, "csrf": "x"}))


def test_the_secret_file_is_created_0600_beside_the_database(app, database_url):
    """The secret lives in a file readable by its owner only."""
    path = console_secret_path(app.config["AUTHZ"])
    if database_url.startswith("sqlite:///"):
        assert path == os.path.abspath(database_url[len("sqlite:///"):]) + ".console-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_readable_secret_file_stops_the_start(tmp_path, mode):
    """Group- or world-readable, the service refuses to start and says which file and why."""
    path = tmp_path / "secret"
    settings = {"database_url": f"sqlite:///{tmp_path}/a.db", "console_secret_file": str(path),
                "policy_poll_seconds": 0}
    create_app(settings)
    store.close()
    os.chmod(path, mode)
    with pytest.raises(ExposedSecret, match=str(path)):
        create_app(settings)
    store.close()


def test_migration_5_removes_the_secret_from_the_database(tmp_path):
    """A database from before keeps no console secret after the upgrade."""
    from authz_service.store import migrations

    db = store.connect(f"sqlite:///{tmp_path}/old.db", migrate=False)
    with store.connection():
        for version, step in migrations.MIGRATIONS:
            if version < 5:
                step(db)
        db.create_tables([migrations.m.SchemaVersion])
        migrations.m.SchemaVersion.create(version=2)
        Setting.create(key="secret:console-session", value="leaked")
        migrations.run(db)
        assert Setting.get_or_none(Setting.key == "secret:console-session") is None
    store.close()


HEADERS = {"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}


def _protected(response) -> bool:
    policy = response.headers.get("Content-Security-Policy", "")
    return "frame-ancestors 'none'" in policy and all(
        response.headers.get(k) == v for k, v in HEADERS.items())


def test_every_console_response_forbids_framing(app, client):
    """Every console route (GET and POST, signed in or not), errors and redirects included."""
    paths = sorted({rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/console")})
    assert len(paths) >= 10
    for path in paths:
        assert _protected(client.get(path)), path
        assert _protected(client.post(path, data={})), path  # 400 (no CSRF), 405 or a redirect
    sign_in(client, make_key("auditor", ["audit"]))
    for path in paths:
        assert _protected(client.get(path)), path
    token = csrf(client)
    refused = client.post("/console/links/add", data={"csrf_token": token, "customer": "initech",
                                                      "email": "lee@acme.example"})
    assert refused.status_code == 403 and _protected(refused)
    assert _protected(client.get("/console/nowhere"))
    assert "X-Frame-Options" not in client.get("/healthz").headers  # the API is not a page


def test_verification_is_not_in_the_request_path(app, client, monkeypatch, tmp_path):
    """?verify=1 reads the log writer's last result; no request walks the chain."""
    from authz_service.store import decisions

    monkeypatch.setattr(app.config["AUTHZ"], "log_spool_dir", str(tmp_path))

    def no_walk(*_args, **_kwargs):
        raise AssertionError("a request walked the log")

    monkeypatch.setattr(decisions, "walk", no_walk)
    sign_in(client, make_key("auditor", ["audit"]))
    response = client.get("/console/activity?account=acme&verify=1")
    assert response.status_code == 200
    assert "not run yet" in response.get_data(as_text=True)
