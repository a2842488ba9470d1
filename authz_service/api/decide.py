"""Decision endpoints: authorize, batch, accounts (scope decide)."""

from flask import g
from flask.views import MethodView

from authz_service.api import schemas as s
from authz_service.api.base import Blueprint, state
from authz_service.api.errors import ApiError
from authz_service.decide import authorize

blp = Blueprint("decisions", __name__, scope="decide", url_prefix="/v1", description="Decisions (scope decide)")


@blp.route("/authorize")
class Authorize(MethodView):
    @blp.arguments(s.AuthorizeIn())
    @blp.response(200, s.AuthorizeOut())
    def post(self, body):
        """May `user` do `action` on `account`? Recorded before the answer (R7.1)."""
        if "account" not in body and "session" not in body:
            raise ApiError(400, "malformed", "account is required without a session",
                           fields={"account": ["Missing data for required field."]})
        return authorize.authorize(state().policy, body["user"], body["action"],
                                   body.get("account"), body.get("resource"),
                                   body.get("session"), g.caller)


@blp.route("/authorize/batch")
class AuthorizeBatch(MethodView):
    @blp.arguments(s.BatchIn())
    @blp.response(200, s.BatchOut())
    def post(self, body):
        """Up to 1000 checks for one user, answered in order."""
        results = authorize.authorize_many(state().policy, body["user"], body["checks"], None, g.caller)
        return {"results": results}


@blp.route("/authorize/accounts")
class AuthorizeAccounts(MethodView):
    @blp.arguments(s.AccountsIn)
    @blp.response(200, s.AccountsOut)
    def post(self, body):
        """Every account where authorize would allow the action, from one query."""
        items, cursor = authorize.accounts(state().policy, body["user"], body["action"],
                                           body["limit"], body["cursor"])
        return {"items": items, "next_cursor": cursor}
