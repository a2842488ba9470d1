"""AuthZEN 1.0 request and response shapes (docs/api.md "AuthZEN 1.0").

Unknown fields are ignored at every level (the specification's forward compatibility); a
missing required entity, `type`, `id` or `name`, or a value of the wrong JSON type, is 400.
Optional objects may be null (the specification asks senders to omit them instead).
"""

import marshmallow as ma

from authz_service.api.base import in_range, invalid, length

F = ma.fields
SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
MAX_EVALUATIONS = 1000
MAX_PAGE = 500  # a larger page.limit is served in pages of this many (a PDP may page)


class Lenient(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class Target(Lenient):
    """resource.properties.target: what the decision is about inside the account (R7.1)."""

    type = F.String(required=True, validate=length(0, 64))
    id = F.String(required=True, validate=length(0, 200))


class ResourceProperties(Lenient):
    target = F.Nested(Target, allow_none=True)


class Subject(Lenient):
    type = F.String(required=True, metadata={"description": "`user`"})
    id = F.String(required=True, metadata={"description": "the user's email"})
    properties = F.Dict(allow_none=True)


class Resource(Lenient):
    type = F.String(required=True, metadata={"description": "`account`"})
    id = F.String(required=True, metadata={"description": "the account id"})
    properties = F.Nested(ResourceProperties, allow_none=True)


class Action(Lenient):
    name = F.String(required=True, metadata={"description": "an R3 name, `resource.verb`"})
    properties = F.Dict(allow_none=True)


class Context(Lenient):
    session = F.String(allow_none=True, metadata={"description": "a view session (R6)"})


class EvaluationIn(Lenient):
    subject = F.Nested(Subject, required=True)
    action = F.Nested(Action, required=True)
    resource = F.Nested(Resource, required=True)
    context = F.Nested(Context, allow_none=True)


def _semantic(value: str) -> None:
    if value not in SEMANTICS:
        raise invalid(f"evaluations_semantic must be one of {', '.join(SEMANTICS)}")


def _at_most(items: list) -> None:
    if len(items) > MAX_EVALUATIONS:
        raise invalid(f"at most {MAX_EVALUATIONS} evaluations")


class Options(Lenient):
    evaluations_semantic = F.String(load_default="execute_all", validate=_semantic)


class EvaluationsIn(Lenient):
    """Defaults for every evaluation, and the evaluations (each checked on its own)."""

    subject = F.Nested(Subject)
    action = F.Nested(Action)
    resource = F.Nested(Resource)
    context = F.Nested(Context, allow_none=True)
    options = F.Nested(Options, allow_none=True)
    evaluations = F.List(F.Raw(allow_none=True), allow_none=True, validate=_at_most, metadata={
        "description": "objects with any of subject, action, resource, context (0-1000)"})


class DecisionOut(ma.Schema):
    decision = F.Boolean(required=True)
    context = F.Dict(metadata={"description": "decision_id, group, reason, rule; or error"})


class EvaluationsOut(ma.Schema):
    decision = F.Boolean(metadata={"description": "without evaluations only"})
    context = F.Dict()
    evaluations = F.List(F.Nested(DecisionOut))


class Page(Lenient):
    token = F.String(allow_none=True)
    limit = F.Integer(strict=True, allow_none=True, validate=in_range(1, 2**31))


class Searched(Lenient):
    """The entity a search looks for: its `type`; an `id`, if sent, is ignored."""

    type = F.String(required=True)


class SubjectSearchIn(Lenient):
    subject = F.Nested(Searched, required=True)
    action = F.Nested(Action, required=True)
    resource = F.Nested(Resource, required=True)
    context = F.Dict(allow_none=True)
    page = F.Nested(Page, allow_none=True)


class ResourceSearchIn(Lenient):
    subject = F.Nested(Subject, required=True)
    action = F.Nested(Action, required=True)
    resource = F.Nested(Searched, required=True)
    context = F.Dict(allow_none=True)
    page = F.Nested(Page, allow_none=True)


class ActionSearchIn(Lenient):
    subject = F.Nested(Subject, required=True)
    resource = F.Nested(Resource, required=True)
    context = F.Dict(allow_none=True)
    page = F.Nested(Page, allow_none=True)


class PageOut(ma.Schema):
    next_token = F.String(required=True, metadata={"description": "empty at the end"})
    count = F.Integer()


class SearchOut(ma.Schema):
    page = F.Nested(PageOut)
    results = F.List(F.Dict(), required=True)


class ConfigurationOut(ma.Schema):
    policy_decision_point = F.String(required=True)
    access_evaluation_endpoint = F.String(required=True)
    access_evaluations_endpoint = F.String()
    search_subject_endpoint = F.String()
    search_resource_endpoint = F.String()
    search_action_endpoint = F.String()
