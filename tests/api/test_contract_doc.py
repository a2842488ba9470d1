"""docs/api.md and the served /openapi.json name the same endpoints, method by method."""

import re
from pathlib import Path

from tests.support import backends

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("get", "put", "post", "patch", "delete")
HEADING = re.compile(r"^### (GET|PUT|POST|PATCH|DELETE) (/\S*)$")
PLANNED_ROW = re.compile(r"^\| `(GET|PUT|POST|PATCH|DELETE)` \| `(/\S*)` \|$")
# Served by flask-smorest beside the document it serves; docs/api.md names it in prose.
OUTSIDE_SPEC = {("GET", "/openapi.json")}


def _section(text: str, title: str) -> str:
    """The text of one `## title` section (up to the next `## `)."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def documented(text: str) -> set[tuple[str, str]]:
    """(METHOD, path) of every `### METHOD /path` heading."""
    return {m.groups() for line in text.splitlines() if (m := HEADING.match(line))}


def planned(text: str) -> set[tuple[str, str]]:
    """(METHOD, path) of every row of the "Not served yet" table."""
    return {m.groups() for line in _section(text, "Not served yet").splitlines()
            if (m := PLANNED_ROW.match(line))}


def served(spec: dict) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the OpenAPI document."""
    return {(method.upper(), path) for path, ops in spec["paths"].items()
            for method in ops if method in METHODS}


def test_every_documented_endpoint_is_served_and_every_served_one_documented(client):
    spec = client.get("/openapi.json").json
    docs, live = documented(DOC.read_text(encoding="utf-8")), served(spec)
    assert len(docs) >= 30, "the endpoint headings were not found: has their format changed?"
    assert sorted(docs - live) == [], "in docs/api.md, not served"
    assert sorted(live - docs) == [], "served, not in docs/api.md"


def test_not_yet_served_endpoints_are_not_served(client):
    """A planned endpoint that lands must move up to a heading of its own."""
    text = DOC.read_text(encoding="utf-8")
    coming = planned(text)
    table = _section(text, "Not served yet")
    assert coming or "| method | path |" in table, "the 'Not served yet' table was not read"
    assert sorted(coming & served(client.get("/openapi.json").json)) == []
    assert sorted(coming & documented(text)) == []


def test_endpoints_served_outside_the_document_answer(client):
    for method, path in OUTSIDE_SPEC:
        assert client.open(path, method=method).status_code == 200, path
        assert f"`{method} {path}`" in DOC.read_text(encoding="utf-8")


GUIDE = DOC.with_name("integrating.md")
CALLED = re.compile(r"(?:http://authz:8080|https://authz\.example\.com)(/[^\s'\"`)]*)")


def test_every_endpoint_the_integration_guide_calls_is_served(client):
    """docs/integrating.md calls only endpoints /openapi.json serves (paths with `{x}` match any
    one segment, such as `$S`)."""
    templates = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                 for path in client.get("/openapi.json").json["paths"]]
    called = set(CALLED.findall(GUIDE.read_text(encoding="utf-8")))
    assert "/access/v1/evaluation" in called and "/.well-known/authzen-configuration" in called
    assert sorted(p for p in called if not any(t.match(p) for t in templates)) == []


def test_the_guides_discovery_document_is_the_services(database_url, tmp_path):
    """The discovery document shown in docs/integrating.md is what the service answers with
    AUTHZ_PUBLIC_URL=https://authz.example.com, member for member."""
    import json

    from authz_service import store
    from authz_service.app import create_app

    text = GUIDE.read_text(encoding="utf-8")
    shown = json.loads(text.split("/.well-known/authzen-configuration\n```\n```json\n", 1)[1].split("```", 1)[0])
    app = create_app({"database_url": database_url, "policy_poll_seconds": 0,
                      "public_url": "https://authz.example.com", **backends.side_files(database_url, tmp_path)},
                     migrate=True)
    try:
        assert app.test_client().get("/.well-known/authzen-configuration").json == shown
    finally:
        store.close()
