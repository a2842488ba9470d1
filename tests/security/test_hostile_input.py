"""Every /v1 operation of /openapi.json, every text field and id (body, query, path) given hostile
values: lone surrogates, NUL, U+200B, U+202E, 10 kB; every integer 5000 digits; every time near
year 1 or 9999 with an offset; the whole body 100k deep or under a wrong Content-Type.

Must hold (issue 16, must-hold 5): no 500, no HTML, the contract's error shape, and a refusal
changes nothing (no directory, link, invite, service, session, contact or mail row; a 400 or
422 records no decision either). On both stores.
"""

import hashlib
import json
from urllib.parse import quote

import pytest

from authz_service import store
from authz_service.store import models as m
from tests.support.auth import bearer
from tests.support.reads import decision_count

HOSTILE = {"surrogate": "a\ud800b", "low-surrogate": "\udfff", "nul": "a\x00b",
           "zero-width-space": "ada\u200b@acme.example", "rtl-override": "\u202eada@acme.example",
           "10kB": "x" * 10_000}
TIMES = {"year-1": "0001-01-01T00:00:00+01:00", "year-9999": "9999-12-31T23:59:59-01:00"}
BIG_INT = "9" * 5000
SAMPLE = {  # plausible values by field name, so that the hostile one is the only thing wrong
    "user": "ada@acme.example", "action": "port.view", "account": "initech", "group": "regular",
    "kind": "port", "name": "Name", "email": "new@wayne.example", "admin_email": "o@wayne.example",
    "customer_id": "initech", "partner_id": "acme", "account_id": "initech", "service_id": "svc-h",
    "invite_id": "inv-h", "session_id": "ses-h", "type": "admin", "id": "p1", "status": "pending",
    "sort": "name", "hide_inactive": "false", "allowed": "true", "limit": 10, "checks": None,
    "monthly_price_cents": 100,
}
DOMAIN = (m.Account, m.User, m.Link, m.ViewSession, m.Invite, m.ApiKey, m.Service, m.Contact,
          m.Notification)


def domain_digest() -> str:
    """A digest of every row a change could touch (the log aside)."""
    with store.connection():
        rows = [sorted(map(repr, model.select().tuples())) for model in DOMAIN]
    return hashlib.sha256(repr(rows).encode()).hexdigest()

class Operation:
    """One operation of the spec, able to build a plausible request and hostile variants of it."""

    def __init__(self, spec: dict, method: str, path: str, op: dict):
        self.spec, self.method, self.path = spec, method.upper(), path
        params = op.get("parameters", [])
        self.path_params = [p["name"] for p in params if p["in"] == "path"]
        self.query = {p["name"]: p.get("schema", {}) for p in params if p["in"] == "query"}
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        self.body_schema = self._resolve(body) if body else None

    def __repr__(self) -> str:
        return f"{self.method} {self.path}"

    def _resolve(self, schema: dict) -> dict:
        while "$ref" in schema or "anyOf" in schema:
            if "anyOf" in schema:
                schema = next(s for s in schema["anyOf"] if "$ref" in s)
            else:
                schema = self.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def _sample(self, name: str, schema: dict):
        schema = self._resolve(schema)
        if schema.get("type") == "object":
            return {k: self._sample(k, v) for k, v in schema.get("properties", {}).items()
                    if k not in ("session", "cursor")}
        if schema.get("type") == "array":
            return [self._sample(name, schema["items"])]
        if schema.get("format") == "date-time":
            return "2026-01-01T00:00:00Z"
        if name in SAMPLE and SAMPLE[name] is not None:
            return SAMPLE[name]
        return {"integer": 1, "boolean": False}.get(schema.get("type"), "x")

    def body(self) -> dict | None:
        return None if self.body_schema is None else self._sample("body", self.body_schema)

    def leaves(self, schema: dict | None = None, prefix=()):
        """(path into the body, schema) of every scalar field, nested ones included."""
        schema = self._resolve(schema or self.body_schema or {"type": "object"})
        for key, sub in schema.get("properties", {}).items():
            sub = self._resolve(sub)
            if sub.get("type") == "object":
                yield from self.leaves(sub, (*prefix, key))
            elif sub.get("type") == "array":
                yield from self.leaves(self._resolve(sub["items"]), (*prefix, key, 0))
            else:
                yield (*prefix, key), sub

    def url(self, path_values: dict, query: dict) -> str:
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", _quote(path_values.get(name, SAMPLE.get(name, "x"))))
        pairs = [f"{k}={_quote(v)}" for k, v in query.items()]
        return path + ("?" + "&".join(pairs) if pairs else "")

    def base_query(self) -> dict:
        return {k: str(SAMPLE[k]) for k in self.query if k in SAMPLE and k not in ("cursor",)}


def _quote(value) -> str:
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def _set(body, where: tuple, value):
    body = json.loads(json.dumps(body))
    target = body
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return body


def operations(client) -> list[Operation]:
    spec = client.get("/openapi.json").get_json()
    return [Operation(spec, method, path, op) for path, ops in spec["paths"].items()
            if path.startswith("/v1/") for method, op in ops.items() if method != "parameters"]


def variants(op: Operation):
    """(label, url, raw body or None, content type) for every hostile value in every field."""
    body = op.body()
    raw = None if body is None else json.dumps(body).encode()
    for name in op.path_params:
        for label, value in HOSTILE.items():
            yield f"path {name}={label}", op.url({name: value}, op.base_query()), raw, None
    for name, schema in op.query.items():
        values = {**HOSTILE, **(TIMES if name in ("since", "until") else {}),
                  **({"5000-digits": BIG_INT} if schema.get("type") == "integer" else {})}
        for label, value in values.items():
            yield f"query {name}={label}", op.url({}, {**op.base_query(), name: value}), raw, None
    if body is None:
        return
    url = op.url({}, op.base_query())
    for where, schema in op.leaves():
        values = dict(HOSTILE)
        if schema.get("format") == "date-time":
            values.update(TIMES)
        for label, value in values.items():
            yield f"body {where}={label}", url, json.dumps(_set(body, where, value)).encode(), None
        marked = json.dumps(_set(body, where, "__BIG__")).encode()
        yield f"body {where}=5000-digits", url, marked.replace(b'"__BIG__"', BIG_INT.encode()), None
    yield "body 100k-deep", url, b"[" * 100_000 + b"]" * 100_000, None
    yield "body wrong content type", url, raw, "text/plain"
    yield "body form-encoded", url, b"user=ada%40acme.example", "application/x-www-form-urlencoded"


def problems(response, before: tuple[str, int]) -> list[str]:
    """What is wrong with the answer to one hostile request (empty when it holds)."""
    found = []
    text = response.get_data(as_text=True)
    if response.status_code >= 500:
        found.append(f"{response.status_code}: {text[:200]}")
    if text.lstrip().startswith("<") or "html" in (response.mimetype or ""):
        found.append(f"HTML body: {text[:120]}")
    if response.status_code >= 400:
        payload = response.get_json(silent=True)
        error = payload.get("error") if isinstance(payload, dict) else None
        if set(payload or {}) != {"error"} or not isinstance(error, dict) or \
                set(error) != {"code", "message", "details"}:
            found.append(f"not the error shape: {text[:200]}")
        if domain_digest() != before[0]:
            found.append(f"{response.status_code} but something changed")
        if response.status_code in (400, 401, 422) and decision_count() != before[1]:
            found.append(f"{response.status_code} but a decision was recorded")
    return found


@pytest.mark.slow
def test_every_operation_refuses_hostile_values_cleanly(client):
    """Every /v1 operation x every field x every hostile value (over 500 requests per store)."""
    failures, tried = [], 0
    ops = operations(client)
    assert len(ops) >= 25, ops
    for op in ops:
        for label, url, raw, content_type in variants(op):
            before = (domain_digest(), decision_count())
            response = client.open(url, method=op.method, data=raw, headers=bearer(),
                                   content_type=content_type or ("application/json" if raw else None))
            tried += 1
            failures += [f"{op} {label}: {p}" for p in problems(response, before)]
    assert not failures, "\n".join(failures[:40])
    assert tried > 500


def test_deep_json_and_wrong_content_type_without_a_key_on_every_operation(client):
    """Without a key: 401 (or the body's own 400) in the error shape, never a 500 or HTML."""
    for op in operations(client):
        if op.body_schema is None:
            continue
        url = op.url({}, op.base_query())
        for raw, content_type in ((b"[" * 100_000 + b"]" * 100_000, "application/json"),
                                  (b'{"user": "\\ud800"}', "application/json"),
                                  (b"<x/>", "application/xml")):
            before = (domain_digest(), decision_count())
            response = client.open(url, method=op.method, data=raw, content_type=content_type)
            assert response.status_code in (400, 401, 422), (op, response.status_code)
            assert not problems(response, before), (op, problems(response, before))
