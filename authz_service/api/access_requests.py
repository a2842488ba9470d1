"""Requests for access (R10.2; scope manage): ask, list, approve, deny, cancel."""

import marshmallow as ma
from flask import g
from flask.views import MethodView

from authz_service.api.base import Blueprint, in_range, invalid, known_group, length, state
from authz_service.api.fields import UtcDateTime
from authz_service.api.manage_schemas import LinkOut, UserQuery
from authz_service.api.pages import PageQuery, page_of
from authz_service.portal import access_requests
from authz_service.store.request_rows import STATUSES

F = ma.fields
blp = Blueprint("access_requests", __name__, scope="manage", url_prefix="/v1",
                description="Requests for access (scope manage)")
HOURS = in_range(1, access_requests.MAX_HOURS)  # R10.2: at most 30 days


class RequestIn(ma.Schema):
    user = F.String(required=True)
    group = F.String(validate=known_group, metadata={"description": "default: a new link's group (support)"})
    reason = F.String(required=True, validate=length(1, 1000))
    duration_hours = F.Integer(required=True, strict=True, validate=HOURS)


class ApproveIn(ma.Schema):
    user = F.String(required=True)
    group = F.String(validate=known_group, metadata={"description": "a lesser group than asked (R10.2)"})
    duration_hours = F.Integer(strict=True, validate=HOURS, metadata={"description": "at most the hours asked"})


class DenyIn(ma.Schema):
    user = F.String(required=True)
    reason = F.String(required=True, validate=length(1, 1000))


def known_status(value: str) -> None:
    """One of the request statuses (R10.2), else 422 (well-formed, unknown)."""
    if value not in STATUSES:
        raise invalid(f"unknown status {value!r}; one of {', '.join(STATUSES)}")


class StatusFilter(UserQuery):
    status = F.String(load_default=None, validate=known_status)


class RequestQuery(PageQuery, StatusFilter):
    pass


class RequestOut(ma.Schema):
    request_id = F.String()
    partner_id = F.String()
    customer_id = F.String()
    requester = F.String()
    group = F.String()
    reason = F.String()
    duration_hours = F.Integer()
    status = F.String(metadata={"enum": list(STATUSES)})
    created_at = UtcDateTime()
    expires_at = UtcDateTime(metadata={"description": "a pending request expires then (7 days)"})
    decided_by = F.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = F.String(allow_none=True)
    granted_group = F.String(allow_none=True)
    granted_hours = F.Integer(allow_none=True)
    link = F.Nested(LinkOut, metadata={"description": "approve only: the link made"})


RequestPage = page_of(RequestOut)


@blp.route("/customers/<customer_id>/access-requests")
class Ask(MethodView):
    @blp.arguments(RequestIn)
    @blp.response(201, RequestOut)
    def post(self, body, customer_id):
        """Ask the partner's admins for a link to this customer (grant.request); they are mailed."""
        return access_requests.create(state().policy, body["user"], customer_id, body.get("group"), body["reason"],
                               body["duration_hours"], g.caller)


@blp.route("/partners/<partner_id>/access-requests")
class Requests(MethodView):
    @blp.arguments(RequestQuery, location="query")
    @blp.response(200, RequestPage)
    def get(self, query, partner_id):
        """The partner's requests (grant.manage), or the user's own (grant.request), by id."""
        items, cursor = access_requests.list_for(state().policy, query["user"], partner_id, query["status"],
                                          query["limit"], query["cursor"], g.caller)
        return {"items": items, "next_cursor": cursor}


@blp.route("/access-requests/<request_id>/approve")
class Approve(MethodView):
    @blp.arguments(ApproveIn)
    @blp.response(200, RequestOut)
    def post(self, body, request_id):
        """Approve (grant.manage): the request approved and its expiring link made, together; 409 unless pending."""
        return access_requests.approve(state().policy, body["user"], request_id, body.get("group"),
                                body.get("duration_hours"), g.caller)


@blp.route("/access-requests/<request_id>/deny")
class Deny(MethodView):
    @blp.arguments(DenyIn)
    @blp.response(200, RequestOut)
    def post(self, body, request_id):
        """Deny with a reason (grant.manage); 409 unless pending."""
        return access_requests.deny(state().policy, body["user"], request_id, body["reason"], g.caller)


@blp.route("/access-requests/<request_id>")
class Cancel(MethodView):
    @blp.arguments(UserQuery, location="query")
    @blp.response(204)
    def delete(self, query, request_id):
        """The requester cancels their pending request; 409 unless pending."""
        access_requests.cancel(state().policy, query["user"], request_id, g.caller)
        return None
