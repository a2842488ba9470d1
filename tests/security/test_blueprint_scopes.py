"""Every /v1 endpoint needs its blueprint's one scope (docs/api.md conventions; docs/decisions/024-one-way-in.md):
no key is 401, a key with only another scope is 403 `missing_scope`, whatever the body or path."""

import pytest

from tests.support.auth import bearer

SCOPES = ("decide", "manage", "audit")
DOCUMENTED = {"decisions": "decide", "sessions": "decide", "customers_page": "decide",
              "directory": "manage", "contacts": "manage", "links": "manage", "invites": "manage",
              "services": "manage", "logs": "audit", "notifications": "audit", "access": "manage",
              "authzen": "decide", "authzen_search": "decide", "log_integrity": "audit",
              "access_requests": "manage",  # R10.2, docs/api.md "Access requests"
              "decision_entries": "audit"}  # R7.3, R7.6: GET /v1/decisions/{id} and /stream
KEYLESS = ("console", "api-docs", "operations", "authzen_discovery")  # no API key asked


def _endpoints(app) -> list[tuple[str, str, str]]:
    """(method, a concrete path, blueprint) for every rule under /v1 and AuthZEN's /access/v1."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/v1/", "/access/v1/")):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path, rule.endpoint.split(".", 1)[0]))
    return found


def test_each_blueprint_declares_the_documented_scope(app):
    scopes = {name: getattr(bp, "scope", None) for name, bp in app.blueprints.items()
              if name not in KEYLESS}
    assert scopes == DOCUMENTED


def test_every_endpoint_needs_its_blueprint_scope(app, client, keys):
    endpoints = _endpoints(app)
    assert len(endpoints) >= 25
    for method, path, blueprint in endpoints:
        response = client.open(path, method=method, json={})
        assert response.status_code == 401, (method, path)
        for scope in SCOPES:
            if scope == DOCUMENTED[blueprint]:
                continue
            response = client.open(path, method=method, json={}, headers=bearer(keys[scope]))
            assert response.status_code == 403, (method, path, scope)
            assert response.json["error"] == {"code": "missing_scope", "message": f"this key lacks the {DOCUMENTED[blueprint]!r} scope",
                                              "details": {"scope": DOCUMENTED[blueprint]}}


@pytest.mark.parametrize("path", ["/v1/authorize", "/v1/partners/acme/contacts"])
def test_options_needs_no_key(client, path):
    """Flask answers OPTIONS itself with the allowed methods; no key is asked, as before."""
    response = client.open(path, method="OPTIONS")
    assert response.status_code == 200 and "Allow" in response.headers
