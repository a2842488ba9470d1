"""Lists have one way in (docs/decisions/024-one-way-in.md): every `{"items", "next_cursor"}` envelope
comes from pages.page_of, every `?limit=&cursor=` query from pages.PageQuery, every query boolean is
pages.QueryBool."""

import importlib
import inspect
import pkgutil

import marshmallow as ma

from authz_service import api
from authz_service.api import pages


def _schemas() -> list[type[ma.Schema]]:
    """Every schema class defined or named in a module of authz_service/api."""
    found = {}
    for info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"authz_service.api.{info.name}")
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, ma.Schema) and value is not ma.Schema:
                found[id(value)] = value
    return list(found.values())


def test_page_of_makes_each_envelope_once():
    class ThingOut(ma.Schema):
        name = ma.fields.String()

    made = pages.page_of(ThingOut)
    assert made is pages.page_of(ThingOut) and made.__name__ == "ThingPage"
    assert set(made().fields) == {"items", "next_cursor"}
    names = [e.__name__ for e in pages.ENVELOPES]
    assert len(names) == len(set(names))


def test_every_envelope_and_page_query_is_the_one():
    schemas = _schemas()
    envelopes = [s for s in schemas if "next_cursor" in s._declared_fields]
    queries = [s for s in schemas if "limit" in s._declared_fields and "cursor" in s._declared_fields]
    assert len(envelopes) >= 7 and len(queries) >= 6
    assert [s for s in envelopes if s not in pages.ENVELOPES] == []
    # AccountsIn is a JSON body, not a query: its limit is strict (an integer, never "5")
    assert [s.__name__ for s in queries if not issubclass(s, pages.PageQuery)] == ["AccountsIn"]


def test_one_query_boolean():
    booleans = {type(f) for s in _schemas() for f in s._declared_fields.values()
                if type(f).__name__ == "QueryBool"}
    assert booleans == {pages.QueryBool}
