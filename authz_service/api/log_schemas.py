"""Shapes for the activity and decision logs (docs/api.md "Logs")."""

import marshmallow as ma

from authz_service.api.base import length
from authz_service.api.fields import UtcDateTime, parse_time
from authz_service.api.pages import PageQuery, QueryBool, page_of

F = ma.fields


class QueryTime(F.Field):
    """An RFC 3339 time with an offset in a query, kept as naive UTC; else 422 (fields.parse_time)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_time(value)


class ActivityQuery(PageQuery):
    user = F.String(required=True)


class DecisionsQuery(PageQuery):
    user = F.String()
    account = F.String()
    action = F.String()
    allowed = QueryBool()
    since = QueryTime(metadata={"description": "at or after (RFC 3339)"})
    until = QueryTime(metadata={"description": "before (RFC 3339)"})
    q = F.String(validate=length(1, 200), metadata={
        "description": "free text: a case-insensitive part of the user, action, target, reason, "
                       "rule, caller, partner or decision id"})


class ResourceOut(ma.Schema):
    type = F.String(allow_none=True)
    id = F.String(allow_none=True)


class FactsOut(ma.Schema):
    kind = F.String()
    relation = F.String()
    home_group = F.String()
    link_group = F.String()
    session = F.String()


class EntryOut(ma.Schema):
    entry_id = F.String(metadata={"description": "the entry's place in the hash chain"})
    at = UtcDateTime()
    user = F.String()
    action = F.String()
    resource = F.Nested(ResourceOut, allow_none=True)
    allowed = F.Boolean()
    group = F.String(allow_none=True)
    on_behalf_of_partner = F.String(allow_none=True)
    session = F.String(allow_none=True)
    decision_id = F.String()
    rule = F.String()
    reason = F.String()
    account = F.String(allow_none=True)
    caller = F.String(allow_none=True)
    altered = F.Boolean(metadata={"description": "a value was cleaned or cut (marked \u2026) to be "
                                  "storable (docs/decisions/013-log-values.md)"})
    facts = F.Nested(FactsOut, allow_none=True, metadata={
        "description": "what the policy decided from (R9.7; null when recorded before migration 8 "
                       "or not decided by the policy: docs/decisions/033-decision-facts-and-replay.md)"})
    policy_version = F.String(allow_none=True, metadata={"description": "the version of the policy that decided"})


EntryPage = page_of(EntryOut)
