"""Operations endpoints, no key: /healthz, /readyz, /metrics, /docs (docs/api.md)."""

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from prometheus_client import CONTENT_TYPE_LATEST

from authz_service import metrics, store
from authz_service.api import docs_page
from authz_service.api.base import Blueprint, state

blp = Blueprint("operations", __name__, scope=None, description="Operations (no key)")

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
    @blp.doc(security=[], **_text("text/html", "the OpenAPI document rendered by Swagger UI"))
    def get(self):
        """The OpenAPI document rendered: every operation's request and response schemas and examples."""
        spec = current_app.extensions["authz"].api.spec.to_dict()
        return docs_page.page(spec["info"]["title"], spec["info"]["version"])
