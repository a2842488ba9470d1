"""Lists (docs/api.md conventions): one page query, one `{"items", "next_cursor"}` envelope, one
query boolean; every list endpoint uses these (docs/decisions/024-one-way-in.md)."""

import functools

import marshmallow as ma

from authz_service.api.base import in_range, invalid

F = ma.fields
MAX_LIMIT = 500
ENVELOPES: list[type[ma.Schema]] = []  # every envelope page_of made, for tests/unit/test_pages.py


class QueryBool(F.Boolean):
    """A query boolean: exactly `true` or `false` (docs/api.md conventions), else 422."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in ("true", "false"):
            raise invalid("must be true or false")
        return value == "true"


class PageQuery(ma.Schema):
    """`?limit=` (1-500, default 50) and `?cursor=`. An endpoint with filters subclasses it:
    `class Q(PageQuery): ...`, or `class Q(PageQuery, Filters)` to list the filters first."""

    limit = F.Integer(load_default=50, validate=in_range(1, MAX_LIMIT))
    cursor = F.String(load_default=None)


@functools.cache
def page_of(item: type[ma.Schema] | type[F.Field]) -> type[ma.Schema]:
    """The envelope `{"items": [item, ...], "next_cursor": str | null}`, one class per item
    (cached, so each schema name is made once in /openapi.json): `LinkOut` gives `LinkPage`."""
    if isinstance(item, type) and issubclass(item, ma.Schema):
        items: F.Field = F.List(F.Nested(item))
        stem = item.__name__.removesuffix("Out").removesuffix("Row")
    else:
        items = F.List(item())
        stem = item.__name__
    envelope = ma.Schema.from_dict({"items": items, "next_cursor": F.String(allow_none=True)},
                                   name=f"{stem}Page")
    ENVELOPES.append(envelope)
    return envelope
