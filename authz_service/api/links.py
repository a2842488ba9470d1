"""Links, the "Manage Users" panel (R4; scope manage)."""

from flask import g
from flask.views import MethodView

from authz_service.api import manage_schemas as s
from authz_service.api.base import Blueprint, email_or_422, state
from authz_service.portal import manage_users

blp = Blueprint("links", __name__, scope="manage", url_prefix="/v1/customers", description="Links (scope manage)")


@blp.route("/<customer_id>/links")
class Links(MethodView):
    @blp.arguments(s.UserPageQuery, location="query")
    @blp.response(200, s.LinkPage)
    def get(self, query, customer_id):
        """The customer's linked users and their groups; needs grant.manage."""
        items, cursor = manage_users.list_links(state().policy, query["user"], customer_id,
                                         query["limit"], query["cursor"], g.caller)
        return {"items": items, "next_cursor": cursor}


@blp.route("/<customer_id>/linkable-users")
class Linkable(MethodView):
    @blp.arguments(s.UserPageQuery, location="query")
    @blp.response(200, s.LinkablePage)
    def get(self, query, customer_id):
        """The partner's non-admin users not yet linked to this customer (R4.4)."""
        items, cursor = manage_users.linkable(state().policy, query["user"], customer_id,
                                       query["limit"], query["cursor"], g.caller)
        return {"items": items, "next_cursor": cursor}


@blp.route("/<customer_id>/links/<email>")
class Link(MethodView):
    @blp.arguments(s.LinkIn)
    @blp.response(200, s.LinkOut)
    @blp.alt_response(201, schema=s.LinkOut, description="linked")
    def put(self, body, customer_id, email):
        """Link a user (group support by default, R4.2) or change their group or end (R10.1)."""
        link, created = manage_users.put(state().policy, body["user"], customer_id, email_or_422(email),
                                         body.get("group"), g.caller, body.get("expires_at", manage_users.KEEP))
        return link, 201 if created else 200

    @blp.arguments(s.UserQuery, location="query")
    @blp.response(204)
    def delete(self, query, customer_id, email):
        """Revoke a link; the next decision anywhere follows (R4.6)."""
        manage_users.revoke(state().policy, query["user"], customer_id, email.lower(), g.caller)
        return None
