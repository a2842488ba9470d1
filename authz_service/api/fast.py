"""POST /v1/authorize and AuthZEN's evaluation and evaluations without the framework's
per-request work (docs/decisions/008-authorize-fast-path.md, 029-peer-throughput.md).

The decision endpoints are the service's hot path. A plainly well-formed request (JSON
object of known fields and types, a live key with the `decide` scope, a known action)
is answered here, by the same `authorize.authorize` (AuthZEN: api/authzen_fast.py, the
same functions as its routes), recorded the same way (R7.1).
Anything else (no key, a bad body, an unknown action, a query string, a chunked body)
goes to the Flask route untouched, whose answer is the reference:
tests/api/test_fast_path.py compares the two on generated requests.
"""

import io
import json
import logging
import time
from typing import TypeGuard

from werkzeug.http import HTTP_STATUS_CODES

from authz_service import metrics, store
from authz_service.api import authzen, authzen_fast, errors, request_input
from authz_service.api.keys import caller_for
from authz_service.decide import authorize
from authz_service.store import kept_facts

log = logging.getLogger("authz.api")
PATH = "/v1/authorize"
FIELDS = {"user", "action", "account", "resource", "session"}
REQUIRED_STR = ("user", "action")
OPTIONAL_STR = ("account", "session")
RESOURCE_LIMITS = {"type": 64, "id": 200}  # schemas.ResourceRef


_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode  # one encoder, not one a call
_ASCII = json.encoder.encode_basestring_ascii  # a string as _SORTED writes it (ensure_ascii)


def _json(payload: dict) -> bytes:
    """As Flask's jsonify writes it: sorted keys, compact, ASCII, a final newline."""
    items = payload.get("evaluations") if len(payload) == 1 else None
    if items.__class__ is list:  # AuthZEN evaluations: up to 1,000 answers, most of them alike
        return ('{"evaluations":[' + ",".join([_evaluation_json(item) for item in items]) + "]}\n").encode()
    return _SORTED(payload).encode() + b"\n"


_CONTEXT = frozenset(authzen.DECIDED_CONTEXT)
_VERDICT = authzen.DECIDED_CONTEXT[1:]  # group, reason, rule: the members kept, in _SORTED's order
_ABSENT = object()
_members: dict[tuple, str] = {}  # (group, reason, rule) -> those members as _SORTED writes them


def _evaluation_json(item) -> str:
    """_SORTED(item) for one answer of evaluations. A decided one's group, reason and rule repeat
    from item to item (the policy's verdicts): their text is kept, and only the decision id is
    written anew. Any other answer (context.error, an odd value) is written by _SORTED itself."""
    decision, context = item.get("decision"), item.get("context")
    if (len(item) != 2 or decision.__class__ is not bool or context.__class__ is not dict
            or not context.keys() <= _CONTEXT or context.get("decision_id").__class__ is not str):
        return _SORTED(item)
    # the _VERDICT members, named one by one: a generator over them costs more than this saves
    verdict = (context.get("group", _ABSENT), context.get("reason", _ABSENT), context.get("rule", _ABSENT))
    try:
        members = _members.get(verdict)
    except TypeError:  # a value that cannot be a key (a list, a dict): not one of the policy's verdicts
        return _SORTED(item)
    if members is None:
        if len(_members) >= 4096:  # a policy has far fewer verdicts; a reload brings new ones
            _members.clear()
        members = _members[verdict] = "".join(
            "," + _SORTED({k: context[k]})[1:-1] for k in _VERDICT if k in context)
    return ('{"context":{"decision_id":' + _ASCII(context["decision_id"]) + members
            + ('},"decision":true}' if decision else '},"decision":false}'))


def _authorize(policy, body, caller: str) -> dict | None:
    """POST /v1/authorize, or None for the Flask route."""
    if not well_formed(body) or not policy.is_action(body["action"]):
        return None
    return authorize.authorize(policy, body["user"], body["action"], body.get("account"),
                               body.get("resource"), body.get("session"), caller)


ROUTES = {PATH: _authorize, "/access/v1/evaluation": authzen_fast.evaluation,
          "/access/v1/evaluations": authzen_fast.evaluations}


def well_formed(body: object) -> TypeGuard[dict]:
    """True when the Flask route would accept this body as it is (schemas.AuthorizeIn)."""
    if not isinstance(body, dict) or not body.keys() <= FIELDS:
        return False
    if not all(isinstance(body.get(k), str) for k in REQUIRED_STR):
        return False
    if not all(isinstance(body[k], str) for k in OPTIONAL_STR if k in body):
        return False
    if "account" not in body and "session" not in body:
        return False
    resource = body.get("resource")
    if resource is None:
        return True
    return (isinstance(resource, dict) and resource.keys() == RESOURCE_LIMITS.keys()
            and all(isinstance(resource[k], str) and len(resource[k]) <= n
                    for k, n in RESOURCE_LIMITS.items()))


class FastAuthorize:
    """WSGI middleware: answer plain authorize requests, hand the rest to `flask_app`."""

    def __init__(self, flask_app, state, request_id):
        self.flask_app, self.state, self.request_id = flask_app, state, request_id
        self.limit = state.settings.max_body_bytes

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path not in ROUTES or environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
            return self.flask_app(environ, start_response)
        raw = self._read(environ)
        got = raw is not None and self.answer(path, environ.get("CONTENT_TYPE", ""), raw,
                                              environ.get("HTTP_AUTHORIZATION", ""), environ.get("HTTP_X_REQUEST_ID"))
        if not got:  # no key, not plainly well-formed: Flask answers, its error the reference
            return self.flask_app(environ, start_response)
        start_response(got[0], got[1])
        return [got[2]]

    def answer(self, path: str, content_type: str, raw: bytes, authorization: str,
               given_id: str | None) -> tuple[str, list, bytes] | None:
        """(status line, header fields, body) for a POST to one of ROUTES with this body and these
        header fields, or None for Flask to answer (serving/inline.py calls it with the request's
        own fields, the WSGI call above with the environ's)."""
        started = time.perf_counter()
        if content_type.split(";", 1)[0].strip().lower() != "application/json" or not 0 < len(raw) <= self.limit:
            return None
        try:  # the one JSON reader (hostile text, depth, numbers); Flask answers what it refuses
            body = request_input.loads(raw)
        except errors.ApiError:
            return None
        with kept_facts.one_read():  # on SQLite, the key and the facts as of the request's start
            decided = self._authorized(ROUTES[path], body, authorization)
        if decided is None:
            return None
        status, payload, extra = decided
        request_id = authzen.echoed_request_id(path, given_id) or self.request_id(given_id or "")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                   *extra, ("X-Request-Id", request_id)]
        metrics.observe_latency(path, time.perf_counter() - started)
        return status, headers, payload

    def _authorized(self, answer, body, authorization: str) -> tuple[str, bytes, list] | None:
        """_decide's answer for a caller whose key may decide; None to leave the request to Flask."""
        try:
            caller = caller_for(authorization, self.state.settings.bootstrap_key)
        except Exception:  # no key, or the database cannot say: Flask answers (401, 503)
            return None
        return self._decide(answer, body, caller["name"]) if "decide" in caller["scopes"] else None

    def _read(self, environ) -> bytes | None:
        """The body as sent, or None to leave the request to Flask (its input restored)."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if not 0 < length <= self.limit:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask reads it again if it gets the request
        return raw

    def _decide(self, answer, body, caller: str) -> tuple[str, bytes, list] | None:
        """(status line, body, headers), or None when the request is not this path's to answer."""
        policy = self.state.policy  # one policy for the whole request, even across a reload (R9.6)
        try:  # a connection is taken from the pool only if a query runs (peewee's autoconnect):
            # on PostgreSQL a decision answered from the facts cache needs none
            result = answer(policy, body, caller)
            return None if result is None else ("200 OK", _json(result), [])
        except Exception as exc:  # the same answer the Flask route's handlers give
            return _error(exc)
        finally:
            store.release()


def _error(exc: Exception) -> tuple[str, bytes, list]:
    """The answer errors.init_app's handlers give for exc, as (status line, body, headers)."""
    try:
        api_error = errors.translate(exc)
    except Exception:
        log.exception("unexpected error")
        api_error = errors.ApiError(500, *errors.UNEXPECTED)
    status = f"{api_error.status} {HTTP_STATUS_CODES[api_error.status].upper()}"
    payload = _json(errors.body(api_error.code, api_error.message, api_error.details))
    return status, payload, errors.extra_headers(api_error.status)
