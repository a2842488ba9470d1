"""AuthZEN 1.0 evaluations and discovery (docs/api.md "AuthZEN 1.0"; docs/decisions/028-authzen.md).

One evaluation is decided and recorded exactly as POST /v1/authorize (R7.1): subject
`user` is the user, resource `account` the account, `resource.properties.target` the
recorded target, `context.session` a view session (R6). What the policy cannot decide (an
unknown action, another subject or resource type) is a deny with `context.error`, as the
specification asks, and is not recorded: nothing was decided.
"""

from dataclasses import dataclass

import marshmallow as ma
from flask import g, request
from flask.views import MethodView

from authz_service.api import authzen_schemas as sc
from authz_service.api.base import Blueprint, state
from authz_service.api.errors import from_validation
from authz_service.decide import authorize

blp = Blueprint("authzen", __name__, scope="decide", description="AuthZEN 1.0 (scope decide)")
discovery = Blueprint("authzen_discovery", __name__, scope=None, description="AuthZEN 1.0 discovery (no key)")
PATHS = {"access_evaluation_endpoint": "/access/v1/evaluation",
         "access_evaluations_endpoint": "/access/v1/evaluations",
         "search_subject_endpoint": "/access/v1/search/subject",
         "search_resource_endpoint": "/access/v1/search/resource",
         "search_action_endpoint": "/access/v1/search/action"}
ENTITIES = ("subject", "action", "resource", "context")
ONE = sc.EvaluationIn()  # one instance: its nested schemas are built once


@dataclass(frozen=True)
class Refused:
    """An evaluation that is not decided: the deny's `context.error`."""

    code: str
    message: str
    status: int | None = None  # the status a lone request would have had (400, 422)
    fields: dict | None = None  # what was wrong, where (as error.details.fields)

    def answer(self) -> dict:
        error = {"code": self.code, "message": self.message, "status": self.status,
                 "fields": self.fields}
        return {"decision": False,
                "context": {"error": {k: v for k, v in error.items() if v is not None}}}


def request_for(policy, body: dict) -> dict | Refused:
    """The authorize request an evaluation maps onto, or why it has none."""
    subject, action, resource = body["subject"], body["action"]["name"], body["resource"]
    if subject["type"] != "user":
        return Refused("unknown_subject_type", f"no subject of type {subject['type']!r}: only user")
    if resource["type"] != "account":
        return Refused("unknown_resource_type",
                       f"no resource of type {resource['type']!r}: only account")
    if not policy.is_action(action):
        return Refused("unknown_action", f"unknown action {action!r}")
    target = (resource.get("properties") or {}).get("target")
    return {"user": subject["id"], "action": action, "account": resource["id"], "resource": target,
            "session": (body.get("context") or {}).get("session")}


DECIDED_CONTEXT = ("decision_id", "group", "reason", "rule")  # a decided evaluation's context, sorted


def _answer(outcome) -> dict:
    """An evaluation's answer: the recorded decision, or a deny saying why there was none."""
    if isinstance(outcome, dict):
        # null members are left out, as the specification asks (a user with no group there)
        context = {k: outcome[k] for k in DECIDED_CONTEXT
                   if outcome[k] is not None}
        return {"decision": outcome["allowed"], "context": context}
    if isinstance(outcome, authorize.UnknownAction):
        return Refused("unknown_action", f"unknown action {outcome.args[0]!r}").answer()
    if isinstance(outcome, authorize.TooLong):
        return Refused("invalid", str(outcome), 422).answer()
    return outcome.answer()


def evaluate_one(body: dict) -> dict:
    """One evaluation: decided and recorded as POST /v1/authorize (a value too long to record
    is 422 there and here), or a deny with context.error."""
    # one policy for the whole request, even across a reload (R9.6)
    return evaluate(state().policy, body, g.caller)


def evaluate(policy, body: dict, caller: str) -> dict:
    """`evaluate_one` with its policy and caller given (the fast path's way in, api/fast.py)."""
    asked = request_for(policy, body)
    if isinstance(asked, Refused):
        return asked.answer()
    # request_for checked the action against this same policy: authorize raises no UnknownAction here
    return _answer(authorize.authorize(policy, asked["user"], asked["action"], asked["account"],
                                       asked["resource"], asked["session"], caller))


def item(policy, defaults: dict, raw) -> dict | Refused:
    """One evaluation with the top-level defaults: each entity present replaces its default whole."""
    if not isinstance(raw, dict):
        return Refused("malformed", "an evaluation must be a JSON object", 400)
    merged = {k: raw[k] if k in raw else defaults[k] for k in ENTITIES if k in raw or k in defaults}
    try:
        return request_for(policy, ONE.load(merged))
    except ma.ValidationError as exc:
        error = from_validation(exc.messages)
        return Refused(error.code, error.message, error.status, error.details["fields"])


def _stop(semantic: str):
    """When a run of evaluations ends early: deny_on_first_deny (any deny or error),
    permit_on_first_permit (the first permit), execute_all never."""
    if semantic == "deny_on_first_deny":
        return lambda outcome: not (isinstance(outcome, dict) and outcome["allowed"])
    if semantic == "permit_on_first_permit":
        return lambda outcome: isinstance(outcome, dict) and outcome["allowed"]
    return None


@blp.route("/access/v1/evaluation")
class Evaluation(MethodView):
    @blp.arguments(sc.EvaluationIn())
    @blp.response(200, sc.DecisionOut())
    def post(self, body):
        """May the subject do the action on the resource? Recorded as /v1/authorize (R7.1)."""
        return evaluate_one(body)


@blp.route("/access/v1/evaluations")
class Evaluations(MethodView):
    @blp.arguments(sc.EvaluationsIn())
    @blp.response(200, sc.EvaluationsOut())
    def post(self, body):
        """Up to 1000 evaluations in order, recorded in one commit; none: as /evaluation."""
        items = body.get("evaluations") or []
        if not items:  # the specification's backwards-compatible form
            try:
                return evaluate_one(ONE.load({k: body[k] for k in ENTITIES if k in body}))
            except ma.ValidationError as exc:
                raise from_validation(exc.messages) from None
        semantic = (body.get("options") or {}).get("evaluations_semantic", "execute_all")
        policy = state().policy
        return evaluate_each(policy, [item(policy, body, raw) for raw in items], g.caller, semantic)


def evaluate_each(policy, requests: list, caller: str, semantic: str) -> dict:
    """The answer to evaluations already read (each a request for `decide_each` or Refused)."""
    outcomes = authorize.decide_each(policy, requests, caller, _stop(semantic))
    return {"evaluations": [_answer(outcome) for outcome in outcomes]}


def _base_url() -> str:
    return (state().settings.public_url or request.url_root).rstrip("/")


@discovery.route("/.well-known/authzen-configuration")
class Configuration(MethodView):
    @discovery.doc(security=[])
    @discovery.response(200, sc.ConfigurationOut())
    def get(self):
        """The PDP's metadata: its base URL (AUTHZ_PUBLIC_URL, else the request's) and endpoints."""
        base = _base_url()
        return {"policy_decision_point": base, **{name: base + path for name, path in PATHS.items()}}


def echoed_request_id(path: str, given: str | None) -> str | None:
    """The caller's X-Request-ID as sent, for an AuthZEN answer (the specification: the same
    identifier), when it can be a header value (no control character); else None."""
    if given is None or not path.startswith(("/access/v1/", "/.well-known/authzen-configuration")):
        return None
    return given if all(c == "\t" or " " <= c <= "\xff" and c != "\x7f" for c in given) else None
