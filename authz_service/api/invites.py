"""Invites (R1; scope manage)."""

from flask import g
from flask.views import MethodView

from authz_service.api import manage_schemas as s
from authz_service.api.base import Blueprint, email_or_422, id_or_422, state
from authz_service.portal import invitations

blp = Blueprint("invites", __name__, scope="manage", url_prefix="/v1", description="Invites (scope manage)")


@blp.route("/partners/<partner_id>/invites")
class PartnerInvites(MethodView):
    @blp.arguments(s.InviteIn)
    @blp.response(201, s.InviteOut)
    def post(self, body, partner_id):
        """Invite a customer by email; needs customer.invite on the partner (R1.2)."""
        return invitations.create(state().policy, body["user"], partner_id,
                              email_or_422(body["email"]), g.caller)

    @blp.arguments(s.UserPageQuery, location="query")
    @blp.response(200, s.InvitePage)
    def get(self, query, partner_id):
        """The partner's invites and their status; needs customer.list."""
        items, cursor = invitations.list_for(state().policy, query["user"], partner_id,
                                         query["limit"], query["cursor"], g.caller)
        return {"items": items, "next_cursor": cursor}


@blp.route("/invites/<invite_id>")
class Invite(MethodView):
    @blp.arguments(s.UserQuery, location="query")
    @blp.response(200, s.InviteOut)
    def delete(self, query, invite_id):
        """Revoke a pending invite (R1.2)."""
        return invitations.revoke(state().policy, query["user"], invite_id, g.caller)


@blp.route("/invites/<invite_id>/accept")
class Accept(MethodView):
    @blp.arguments(s.AcceptIn)
    @blp.response(201, s.CustomerOut)
    def post(self, body, invite_id):
        """Accept: the customer account, owned by the partner, and its admin user (R1.3)."""
        return invitations.accept(state().policy, invite_id, id_or_422(body["customer_id"], "customer_id"),
                              body["name"], email_or_422(body["admin_email"]))
