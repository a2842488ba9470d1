"""Service mail sent or waiting for a partner's contacts (R8.3; scope audit)."""

import marshmallow as ma
from flask.views import MethodView

from authz_service import cursors
from authz_service.api.base import Blueprint, invalid
from authz_service.api.fields import UtcDateTime
from authz_service.api.pages import PageQuery, page_of
from authz_service.store import outbox

blp = Blueprint("notifications", __name__, scope="audit", url_prefix="/v1/partners",
                description="Notifications: the mail outbox (scope audit)")
F = ma.fields
STATUSES = ("pending", "sent", "failed")


def _known_status(value: str) -> None:
    if value not in STATUSES:
        raise invalid(f"unknown status {value!r}; one of {', '.join(STATUSES)}")


class NotificationFilters(ma.Schema):
    status = F.String(load_default=None, validate=_known_status)


class NotificationQuery(PageQuery, NotificationFilters):
    pass


class NotificationOut(ma.Schema):
    notification_id = F.Integer(attribute="id")
    event_id = F.String()
    event = F.String()
    customer_id = F.String()
    service_id = F.String()
    email = F.String()
    subject = F.String()
    status = F.String()
    attempts = F.Integer()
    last_error = F.String(allow_none=True)
    created_at = UtcDateTime()
    next_attempt_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)


NotificationPage = page_of(NotificationOut)


@blp.route("/<partner_id>/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationPage)
    def get(self, query, partner_id):
        """The partner's service mail, newest first: pending, sent or failed, attempts, last error."""
        items, cursor = cursors.page(
            f"notifications:{partner_id}:{query['status']}", query["cursor"],
            lambda after: outbox.list_for(partner_id, query["status"], after, query["limit"]),
            lambda i: i["id"])
        return {"items": items, "next_cursor": cursor}
