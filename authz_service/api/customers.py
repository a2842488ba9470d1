"""The Customers page (R5; scope decide)."""

from flask import g
from flask.views import MethodView

from authz_service.api import page_schemas as s
from authz_service.api.base import Blueprint, state
from authz_service.portal import customers

blp = Blueprint("customers_page", __name__, scope="decide", url_prefix="/v1/partners",
                description="The Customers page (scope decide)")


@blp.route("/<partner_id>/customers")
class CustomersPage(MethodView):
    @blp.arguments(s.CustomersQuery, location="query")
    @blp.response(200, s.CustomersPage)
    def get(self, query, partner_id):
        """The customers `user` sees, each with their group there and figures masked per field
        by the policy (R5.1-R5.11); needs customer.list on the partner."""
        items, cursor = customers.page(state().policy, query["user"], partner_id, query["sort"],
                                       query["hide_inactive"], query["limit"], query["cursor"],
                                       g.caller)
        return {"items": items, "next_cursor": cursor}
