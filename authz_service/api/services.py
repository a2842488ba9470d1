"""Services and logins as the provisioning system and the portal report them (scope manage)."""

from flask import g
from flask.views import MethodView

from authz_service.api import page_schemas as s
from authz_service.api.base import Blueprint, id_or_422, state
from authz_service.portal import service_events

blp = Blueprint("services", __name__, scope="manage", url_prefix="/v1", description="Services (scope manage)")


@blp.route("/customers/<customer_id>/services")
class Services(MethodView):
    @blp.arguments(s.ServiceIn)
    @blp.response(201, s.ServiceOut)
    def post(self, body, customer_id):
        """A provisioned service; needs `<resource>.create` for `user` on the customer."""
        service = {k: body[k] for k in ("kind", "monthly_price_cents", "ordered_at",
                                        "billing_starts_at") if k in body}
        service["service_id"] = id_or_422(body["service_id"], "service_id")
        return service_events.create(state().policy, body["user"], customer_id, service,
                               body.get("session"), g.caller)


@blp.route("/customers/<customer_id>/services/<service_id>")
class Service(MethodView):
    @blp.arguments(s.ServicePatch)
    @blp.response(200, s.ServiceOut)
    def patch(self, body, customer_id, service_id):
        """A new price or billing start; needs `<resource>.upgrade` (422 for lag, cross_connect)."""
        changes = {k: body[k] for k in ("monthly_price_cents", "billing_starts_at") if k in body}
        return service_events.upgrade(state().policy, body["user"], customer_id, service_id, changes,
                                      body.get("session"), g.caller)

    @blp.arguments(s.ServiceQuery, location="query")
    @blp.response(204)
    def delete(self, query, customer_id, service_id):
        """Delete a service; needs `<resource>.delete`; already deleted or unknown is 404."""
        service_events.delete(state().policy, query["user"], customer_id, service_id,
                        query.get("session"), g.caller)
        return None


@blp.route("/accounts/<account_id>/logins")
class Logins(MethodView):
    @blp.arguments(s.LoginIn)
    @blp.response(204)
    def post(self, body, account_id):
        """A login: recorded in the account's log as `login`; last activity for its own users."""
        service_events.record_login(state().policy, account_id, body["user"], body.get("at"), g.caller)
        return None
