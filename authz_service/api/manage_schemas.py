"""Shapes for links, invites and view sessions (docs/api.md "Links", "Invites", "View sessions")."""

from datetime import UTC, datetime, timedelta

import marshmallow as ma

from authz_service.api.base import invalid, known_group, length
from authz_service.api.fields import Rfc3339, UtcDateTime
from authz_service.api.pages import PageQuery, page_of

F = ma.fields
MAX_LINK_DURATION = timedelta(days=366)  # "at most a year ahead" (R10.1), a leap year's worth


class UserQuery(ma.Schema):
    user = F.String(required=True)


class UserPageQuery(PageQuery, UserQuery):
    pass


def link_end(value) -> None:
    """R10.1: a link's end is in the future and at most a year ahead, else 422."""
    if value is None:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    if value <= now:
        raise invalid("expires_at must be in the future")
    if value > now + MAX_LINK_DURATION:
        raise invalid("expires_at must be at most a year ahead")


class LinkIn(ma.Schema):
    user = F.String(required=True)
    group = F.String(validate=known_group)
    expires_at = Rfc3339(allow_none=True, validate=link_end, metadata={
        "description": "R10.1: the link's end (future, at most a year ahead); null: no end; "
                       "left out: a new link has none, an existing one keeps its own"})


class LinkOut(ma.Schema):
    email = F.String()
    group = F.String()
    linked_at = UtcDateTime()
    expires_at = UtcDateTime(allow_none=True, metadata={"description": "R10.1: null when the link does not end"})
    in_use = F.Boolean(metadata={"description": "false: the user acts there without it (R4.1, R4.9)"})


LinkPage = page_of(LinkOut)


class LinkableOut(ma.Schema):
    email = F.String()
    group = F.String()


LinkablePage = page_of(LinkableOut)


class AccessFilters(UserQuery):
    action = F.String(load_default=None)


class AccessQuery(PageQuery, AccessFilters):
    pass


class AccessOut(ma.Schema):
    email = F.String()
    group = F.String(allow_none=True)
    via = F.String(metadata={"enum": ["home", "partner_admin", "link"]})
    expires_at = UtcDateTime(allow_none=True)


AccessPage = page_of(AccessOut)


class InviteIn(ma.Schema):
    user = F.String(required=True)
    email = F.String(required=True)


class InviteOut(ma.Schema):
    invite_id = F.String()
    email = F.String()
    status = F.String()
    created_at = UtcDateTime()
    expires_at = UtcDateTime()
    partner_id = F.String()
    customer_id = F.String(allow_none=True)


InvitePage = page_of(InviteOut)


class AcceptIn(ma.Schema):
    customer_id = F.String(required=True)
    name = F.String(required=True, validate=length(1, 200))
    admin_email = F.String(required=True)


class CustomerOut(ma.Schema):
    customer_id = F.String()
    name = F.String()
    partner_id = F.String()
    admin_email = F.String()
    created_at = UtcDateTime()


class SessionIn(ma.Schema):
    user = F.String(required=True)


class BindIn(ma.Schema):
    customer_id = F.String(required=True)


class SessionOut(ma.Schema):
    session_id = F.String()
    user = F.String()
    customer_id = F.String(allow_none=True)
    group = F.String(allow_none=True)
    expires_at = UtcDateTime()
