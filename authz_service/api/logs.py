"""The activity and decision logs (R7.2, R7.3; scope audit)."""

from flask import g
from flask.views import MethodView

from authz_service.api import log_schemas as s
from authz_service.api.base import Blueprint, state
from authz_service.log import audit
from authz_service.portal import activity

blp = Blueprint("logs", __name__, scope="audit", url_prefix="/v1", description="Logs (scope audit)")


@blp.route("/accounts/<account_id>/activity")
class Activity(MethodView):
    @blp.arguments(s.ActivityQuery, location="query")
    @blp.response(200, s.EntryPage)
    def get(self, query, account_id):
        """The account's activity, newest first; `user` needs activity.view there (recorded)."""
        items, cursor = activity.activity(state().policy, query["user"], account_id,
                                          query["limit"], query["cursor"], g.caller)
        return {"items": items, "next_cursor": cursor}


@blp.route("/decisions")
class Decisions(MethodView):
    @blp.arguments(s.DecisionsQuery, location="query")
    @blp.response(200, s.EntryPage)
    def get(self, query):
        """Every recorded decision, newest first, for auditors (the scope is the gate)."""
        items, cursor = audit.decisions_page(query, query["limit"], query["cursor"])
        return {"items": items, "next_cursor": cursor}
