"""Request and response shapes (marshmallow), validated only here at the edge."""

import marshmallow as ma

from authz_service.api.base import in_range, known_group, length
from authz_service.api.fields import UtcDateTime
from authz_service.api.pages import page_of

F = ma.fields



class PartnerIn(ma.Schema):
    name = F.String(required=True, validate=length(1, 200))


class PartnerOut(ma.Schema):
    partner_id = F.String(attribute="id")
    name = F.String()
    created_at = UtcDateTime()


class GroupIn(ma.Schema):
    group = F.String(required=True, validate=known_group)


class UserOut(ma.Schema):
    email = F.String()
    account_id = F.String()
    group = F.String()


class ResourceRef(ma.Schema):
    type = F.String(required=True, validate=length(0, 64))
    id = F.String(required=True, validate=length(0, 200))


class CheckIn(ma.Schema):
    action = F.String(required=True)
    account = F.String(required=True)
    resource = F.Nested(ResourceRef, allow_none=True)


class AuthorizeIn(ma.Schema):
    user = F.String(required=True)
    action = F.String(required=True)
    account = F.String()
    resource = F.Nested(ResourceRef, allow_none=True)
    session = F.String()


class AuthorizeOut(ma.Schema):
    allowed = F.Boolean(required=True)
    decision_id = F.String(required=True)
    group = F.String(allow_none=True, required=True)
    reason = F.String(required=True)
    rule = F.String(required=True)


def _batch_size(checks: list) -> None:
    in_range(1, 1000)(len(checks))


class BatchIn(ma.Schema):
    user = F.String(required=True)
    checks = F.List(F.Nested(CheckIn), required=True, validate=_batch_size)


class BatchOut(ma.Schema):
    results = F.List(F.Nested(AuthorizeOut))


class AccountsIn(ma.Schema):
    user = F.String(required=True)
    action = F.String(required=True)
    limit = F.Integer(load_default=50, strict=True, validate=in_range(1, 500))
    cursor = F.String(load_default=None, allow_none=True)


AccountsOut = page_of(F.String)
