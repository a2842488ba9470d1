"""A partner's company contacts (R8.2; directory, scope manage): who gets service mail (R8.1)."""

import marshmallow as ma
from flask.views import MethodView

from authz_service import cursors
from authz_service.api.base import Blueprint, email_or_422, invalid
from authz_service.api.pages import PageQuery, page_of
from authz_service.store import contacts

blp = Blueprint("contacts", __name__, scope="manage", url_prefix="/v1/partners",
                description="Contacts: part of the directory (scope manage)")

TYPES = ("admin", "billing", "technical")


def _known_type(value: str) -> None:
    if value not in TYPES:
        raise invalid(f"unknown contact type {value!r}; one of {', '.join(TYPES)}")


def _name(value: str) -> None:
    if not 0 < len(value.strip()) <= 200:
        raise invalid("a contact's name is 1-200 characters")


class ContactIn(ma.Schema):
    name = ma.fields.String(required=True, validate=_name)
    type = ma.fields.String(required=True, validate=_known_type)


class ContactOut(ma.Schema):
    email = ma.fields.String()
    name = ma.fields.String()
    type = ma.fields.String()


ContactPage = page_of(ContactOut)


@blp.route("/<partner_id>/contacts")
class Contacts(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ContactPage)
    def get(self, query, partner_id):
        """The partner's contacts, by email."""
        items, cursor = cursors.page(f"contacts:{partner_id}", query["cursor"],
                                     lambda after: contacts.list_for(partner_id, after, query["limit"]),
                                     lambda i: i["email"])
        return {"items": items, "next_cursor": cursor}


@blp.route("/<partner_id>/contacts/<email>")
class Contact(MethodView):
    @blp.arguments(ContactIn)
    @blp.response(200, ContactOut)
    @blp.alt_response(201, schema=ContactOut, description="created")
    def put(self, body, partner_id, email):
        """Add a contact or change its name or type; admin contacts get service mail (R8.1)."""
        row, created = contacts.put(partner_id, email_or_422(email), body["name"], body["type"])
        return row, 201 if created else 200

    @blp.response(204)
    def delete(self, partner_id, email):
        """Remove a contact; mail to it not yet sent is not sent."""
        contacts.delete(partner_id, email.lower())
        return None
