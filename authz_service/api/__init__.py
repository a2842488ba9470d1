"""The HTTP layer: the only package that imports Flask. One blueprint per resource."""

import itertools
import os
import re
import time

import flask_smorest
from flask import g, request

from authz_service import metrics
from authz_service.api import (
    access_list,
    access_requests,
    authzen,
    authzen_search,
    console,
    contacts,
    customers,
    decide,
    decision_entries,
    directory,
    docs_page,
    errors,
    invites,
    links,
    log_integrity,
    logs,
    notifications,
    ops,
    request_input,
    services,
    sessions,
)
from authz_service.api.request_input import refuse_unstorable
from authz_service.decide import in_force
from authz_service.secret_file import console_secret

BLUEPRINTS = [ops.blp, directory.blp, decide.blp, links.blp, invites.blp, sessions.blp, contacts.blp,
              notifications.blp, services.blp, customers.blp, logs.blp, decision_entries.blp, log_integrity.blp, access_list.blp,
              authzen.blp, authzen.discovery, authzen_search.blp,
              access_requests.blp]


class Api(flask_smorest.Api):
    """flask-smorest's Api, documenting our error shape."""

    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self):
        errors.init_app(self._app)


def _init_console(app) -> None:
    """The reviewer console: signed, HttpOnly, SameSite=Strict session cookie; not in /openapi.json."""
    app.secret_key = console_secret(app.config["AUTHZ"])  # a file outside the database (R7.6's habit)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=app.config["AUTHZ"].console_secure_cookie,
                      SESSION_COOKIE_NAME="authz_console")
    app.register_blueprint(console.bp)
    app.after_request(console.protect_response)


SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class _RequestIds:
    """New request ids, 32 hex digits as uuid4().hex gave: this process's random 64 bits, then a
    counter (unique, not secret), without uuid4's system call and object each (docs/decisions/041)."""

    def __init__(self):
        self.prefix, self.counter = os.urandom(8).hex(), itertools.count(int.from_bytes(os.urandom(4), "big"))

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


_request_ids = _RequestIds()
os.register_at_fork(after_in_child=lambda: globals().update(_request_ids=_RequestIds()))  # workers differ


def request_id_for(given: str) -> str:
    """The caller's X-Request-Id when it is a plain token, else a new one."""
    return given if SAFE_ID.match(given) else _request_ids.next()


def _request_id() -> str:
    return request_id_for(request.headers.get("X-Request-Id", ""))


def _openapi_settings(app) -> None:
    """flask-smorest's settings for /openapi.json: title, version, bearer security."""
    app.config.update(
        API_TITLE="authz-service", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )


def init_app(app) -> flask_smorest.Api:
    """Register the OpenAPI document, error handlers, and every blueprint."""
    _openapi_settings(app)
    api = Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    _init_console(app)
    docs_page.init_app(app)

    @app.before_request
    def _limit_body():
        in_force.use(app.extensions["authz"].policy)  # for use cases called without one (decide/in_force.py)
        g.request_id = _request_id()
        g.started = time.perf_counter()
        if "" in request.args:
            raise errors.ApiError(400, "malformed", "a query parameter has no name")
        request_input.refuse_bad_url(request.environ)
        refuse_unstorable([*request.args.items(multi=True), *(request.view_args or {}).values()])
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length and request.content_length > limit:
            raise errors.ApiError(413, "request_too_large", "the body is too large")
        # A body without Content-Length (chunked): werkzeug stops reading at the limit without
        # a word, so the parser would get it cut short (400, not 413). Read it here, then look
        # one byte past the limit.
        chunked = request.content_length is None and request.environ.get("wsgi.input_terminated")
        if (chunked and len(request.get_data(cache=True)) >= limit
                and request.environ["wsgi.input"].read(1)):
            raise errors.ApiError(413, "request_too_large", "the body is too large")

    @app.after_request
    def _echo_request_id(response):
        given = request.headers.get("X-Request-Id")
        response.headers["X-Request-Id"] = (authzen.echoed_request_id(request.path, given)
                                            or g.get("request_id") or _request_id())
        if "started" in g:
            rule = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.observe_latency(rule, time.perf_counter() - g.started)
        return response

    return api
