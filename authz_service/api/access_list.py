"""Access: who can act on a customer (R10.3; scope manage)."""

from flask import g
from flask.views import MethodView

from authz_service.api import manage_schemas as s
from authz_service.api.base import Blueprint, state
from authz_service.portal import access

blp = Blueprint("access", __name__, scope="manage", url_prefix="/v1/customers", description="Access (scope manage)")


@blp.route("/<customer_id>/access")
class Access(MethodView):
    @blp.arguments(s.AccessQuery, location="query")
    @blp.response(200, s.AccessPage)
    def get(self, query, customer_id):
        """Every user who holds a group on the customer, the group, how and until when (R10.3);
        with `action`, only those it allows. Needs grant.manage on the partner or user.manage here."""
        items, cursor = access.list_access(state().policy, query["user"], customer_id, query["action"],
                                           query["limit"], query["cursor"], g.caller)
        return {"items": items, "next_cursor": cursor}
