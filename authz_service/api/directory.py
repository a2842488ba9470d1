"""Directory endpoints: partners, their users, customers' users, deleting a user (docs/api.md)."""

from flask.views import MethodView

from authz_service.api import schemas as s
from authz_service.api.base import Blueprint, email_or_422, id_or_422
from authz_service.store import directory

blp = Blueprint("directory", __name__, scope="manage", url_prefix="/v1", description="The directory (scope manage)")


@blp.route("/partners/<partner_id>")
class Partner(MethodView):
    @blp.arguments(s.PartnerIn)
    @blp.response(200, s.PartnerOut)
    @blp.alt_response(201, schema=s.PartnerOut, description="created")
    def put(self, body, partner_id):
        """Create or rename a partner account."""
        row, created = directory.put_partner(id_or_422(partner_id, "partner_id"), body["name"])
        return row, 201 if created else 200


@blp.route("/partners/<partner_id>/users/<email>")
class PartnerUser(MethodView):
    @blp.arguments(s.GroupIn)
    @blp.response(200, s.UserOut)
    @blp.alt_response(201, schema=s.UserOut, description="created")
    def put(self, body, partner_id, email):
        """Create a partner user or change their group (R2)."""
        row, created = directory.put_user(email_or_422(email), partner_id, "partner", body["group"])
        return row, 201 if created else 200


@blp.route("/customers/<customer_id>/users/<email>")
class CustomerUser(MethodView):
    @blp.arguments(s.GroupIn)
    @blp.response(200, s.UserOut)
    @blp.alt_response(201, schema=s.UserOut, description="created")
    def put(self, body, customer_id, email):
        """Create a customer user or change their group (the customer must exist)."""
        row, created = directory.put_user(email_or_422(email), customer_id, "customer", body["group"])
        return row, 201 if created else 200


@blp.route("/users/<email>")
class AnyUser(MethodView):
    @blp.response(204)
    def delete(self, email):
        """Remove a user and their links; log entries keep their email."""
        directory.delete_user(email)
        return None
