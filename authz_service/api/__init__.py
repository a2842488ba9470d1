"""The HTTP layer: the only package that imports Flask. One blueprint per resource."""

import flask_smorest
from flask import request

from authz_service.api import decide, directory, errors, invites, links, ops, sessions

BLUEPRINTS = [ops.blp, directory.blp, decide.blp, links.blp, invites.blp, sessions.blp]


class Api(flask_smorest.Api):
    """flask-smorest's Api, documenting our error shape."""

    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self):
        errors.init_app(self._app)


def init_app(app) -> flask_smorest.Api:
    """Register the OpenAPI document, error handlers, and every blueprint."""
    app.config.update(
        API_TITLE="authz-service", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api = Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)

    @app.before_request
    def _limit_body():
        if request.content_length and request.content_length > app.config["MAX_CONTENT_LENGTH"]:
            raise errors.ApiError(413, "request_too_large", "the body is too large")

    return api
