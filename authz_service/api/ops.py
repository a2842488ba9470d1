"""Operations endpoints, no key: /healthz, /readyz, /metrics, /docs (docs/api.md)."""

import marshmallow as ma
from flask import Response, current_app, render_template_string
from flask.views import MethodView
from prometheus_client import CONTENT_TYPE_LATEST

from authz_service import metrics, store
from authz_service.api.base import Blueprint, state

blp = Blueprint("operations", __name__, scope=None, description="Operations (no key)")

DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }} {{ version }}</title></head><body>
<h1>{{ title }} {{ version }}</h1>
<p>The machine-readable contract is <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead><tbody>
{% for path, ops in paths %}{% for method, op in ops %}
<tr><td>{{ method|upper }}</td><td><code>{{ path }}</code></td><td>{{ op.get('summary', '') }}</td></tr>
{% endfor %}{% endfor %}</tbody></table></body></html>"""


class HealthOut(ma.Schema):
    status = ma.fields.String(required=True)


class ReadyOut(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ready | not_ready"})
    database = ma.fields.Boolean(required=True)
    policy_version = ma.fields.String(allow_none=True)
    policy_reload_error = ma.fields.String(allow_none=True, metadata={
        "description": "why the last reload was refused (the policy in force stays), null when none was"})
    policy_reload_refused_at = ma.fields.String(allow_none=True, metadata={
        "description": "when that reload was first refused (RFC 3339), null when none was"})
    mail = ma.fields.String(metadata={"description": "configured | not_configured"})


def _text(content_type: str, what: str) -> dict:
    return {"responses": {"200": {"description": what, "content": {content_type: {"schema": {"type": "string"}}}}}}


@blp.route("/healthz")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthOut)
    def get(self):
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ReadyOut)
    @blp.alt_response(503, schema=ReadyOut, description="not ready")
    def get(self):
        """The database answers and a policy is loaded."""
        policy, database = state().policy, store.is_ready()
        ready = database and policy is not None
        watch = state().watch
        body = {"status": "ready" if ready else "not_ready", "database": database,
                "policy_version": policy.version if policy else None,
                "policy_reload_error": watch.error if watch else None,
                "policy_reload_refused_at": watch.refused_at if watch else None,
                "mail": "configured" if state().settings.smtp_url else "not_configured"}
        return body, 200 if ready else 503


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(security=[], **_text("text/plain", "Prometheus text format"))
    def get(self):
        """Prometheus text format."""
        return Response(metrics.render(), mimetype=CONTENT_TYPE_LATEST)


@blp.route("/docs")
class Docs(MethodView):
    @blp.doc(security=[], **_text("text/html", "a page listing every operation"))
    def get(self):
        """A page listing every endpoint of the OpenAPI document."""
        spec = current_app.extensions["authz"].api.spec.to_dict()
        paths = [(p, [(m, op) for m, op in ops.items() if isinstance(op, dict)])
                 for p, ops in sorted(spec["paths"].items())]
        html = render_template_string(DOCS, title=spec["info"]["title"],
                                      version=spec["info"]["version"], paths=paths)
        return Response(html, mimetype="text/html")
