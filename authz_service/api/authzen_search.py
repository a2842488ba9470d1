"""AuthZEN 1.0 searches: who, where and what (docs/api.md "AuthZEN 1.0"; portal/authzen.py).

The searched entity needs only its `type` (an `id` sent with it is ignored); every other
entity is complete, else 400. `page.limit` (default 50, at most 500 a page) and
`page.token` map onto the list's limit and cursor; `page.next_token` is empty at the end.
A token this service did not give for this list is 422 `invalid_cursor`.
"""

from flask import g
from flask.views import MethodView

from authz_service.api import authzen_schemas as sc
from authz_service.api.base import Blueprint, state
from authz_service.portal import authzen

blp = Blueprint("authzen_search", __name__, scope="decide", description="AuthZEN 1.0 searches (scope decide)")
DEFAULT_LIMIT = 50


def _page(body: dict) -> tuple[int, str | None]:
    """(limit, cursor) from the request's page object."""
    page = body.get("page") or {}
    return min(page.get("limit") or DEFAULT_LIMIT, sc.MAX_PAGE), page.get("token") or None


def _answer(results: list[dict], after: str | None) -> dict:
    return {"page": {"next_token": after or "", "count": len(results)}, "results": results}


@blp.route("/access/v1/search/subject")
class SubjectSearch(MethodView):
    @blp.arguments(sc.SubjectSearchIn())
    @blp.response(200, sc.SearchOut())
    def post(self, body):
        """The users who may do the action on the account (R10.3), by email."""
        limit, cursor = _page(body)
        return _answer(*authzen.subjects(state().policy, g.caller, body["subject"]["type"],
                                         body["action"]["name"], body["resource"], limit, cursor))


@blp.route("/access/v1/search/resource")
class ResourceSearch(MethodView):
    @blp.arguments(sc.ResourceSearchIn())
    @blp.response(200, sc.SearchOut())
    def post(self, body):
        """The accounts where the user may do the action, by id."""
        limit, cursor = _page(body)
        return _answer(*authzen.resources(state().policy, g.caller, body["subject"],
                                          body["action"]["name"], body["resource"]["type"],
                                          limit, cursor))


@blp.route("/access/v1/search/action")
class ActionSearch(MethodView):
    @blp.arguments(sc.ActionSearchIn())
    @blp.response(200, sc.SearchOut())
    def post(self, body):
        """What the user may do on the account: R3 names, sorted, in one page."""
        return _answer(authzen.actions(state().policy, g.caller, body["subject"], body["resource"]),
                       None)
