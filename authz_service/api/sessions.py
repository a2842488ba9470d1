"""View sessions: acting on behalf of a customer (R6; scope decide)."""

from flask import g
from flask.views import MethodView

from authz_service.api import manage_schemas as s
from authz_service.api.base import Blueprint, state
from authz_service.portal import view_sessions

blp = Blueprint("sessions", __name__, scope="decide", url_prefix="/v1/sessions", description="View sessions (scope decide)")


@blp.route("")
class Sessions(MethodView):
    @blp.arguments(s.SessionIn)
    @blp.response(201, s.SessionOut)
    def post(self, body):
        """Open a view session for a user; it binds to no customer yet."""
        return view_sessions.create(body["user"], state().settings.session_ttl_hours)


@blp.route("/<session_id>")
class Session(MethodView):
    @blp.response(200, s.SessionOut)
    def get(self, session_id):
        """The session, its bound customer and the user's group there now."""
        return view_sessions.read(state().policy, session_id)

    @blp.response(204)
    def delete(self, session_id):
        """End the session."""
        view_sessions.end(session_id)
        return None


@blp.route("/<session_id>/customer")
class Binding(MethodView):
    @blp.arguments(s.BindIn)
    @blp.response(200, s.SessionOut)
    def put(self, body, session_id):
        """Bind the session to a customer the user sees; replaces any earlier binding (R6.1)."""
        return view_sessions.bind(state().policy, session_id, body["customer_id"], g.caller)
