"""`@requires` for Flask views (install `authz-client[flask]`); the rest of the package
never imports Flask."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

try:
    from flask import current_app, g, jsonify
except ImportError as exc:  # pragma: no cover - only without the extra
    raise ImportError("authz_client.flask needs Flask: pip install 'authz-client[flask]'") from exc

from authz_client.client import AuthzClient
from authz_client.decision import FAIL_CLOSED_RULE, Decision
from authz_client.errors import AuthzError

View = TypeVar("View", bound=Callable[..., Any])


def requires(action: str, account: str | Callable[..., str],
             user: Callable[[], str | None] | None = None,
             client: AuthzClient | Callable[[], AuthzClient] | None = None) -> Callable[[View], View]:
    """Flask view decorator: 403 unless `client.authorize(user(), action, account)` allows.

    It never lets an error through (fails closed): a service that cannot be reached or
    answers 5xx is a denial (403, rule `client:fail-closed`); a call the service refuses
    (4xx: an unknown action, a bad key) is a denial saying so; no user is a denial. On allow
    the view runs with the decision in `flask.g.authz_decision`.

    `account` is a view-argument name or a callable taking the view's kwargs; `user` a
    callable returning the end user's email (default: `flask.g.authz_user`); `client` an
    AuthzClient or a callable returning one (default: `app.extensions["authz_client"]`).
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = user() if user else g.get("authz_user")
            where = account(**kwargs) if callable(account) else kwargs[account]
            caller = (client() if callable(client) else client) or \
                current_app.extensions["authz_client"]
            decision = _decide(caller, who, action, where)
            if not decision:
                details = {"decision_id": decision.decision_id, "rule": decision.rule}
                error = {"code": "forbidden", "message": decision.reason, "details": details}
                return jsonify({"error": error}), 403
            g.authz_decision = decision
            return view(*args, **kwargs)

        return cast(View, wrapper)

    return decorate


def _decide(caller: AuthzClient, who: str | None, action: str, where: str) -> Decision:
    """The decision, or a fail-closed denial when there is no user or the call was refused."""
    if not who:
        return Decision.unavailable("no user")
    try:
        return caller.authorize(who, action, where)
    except AuthzError as exc:
        return Decision(False, f"authorization could not be decided: {exc}", FAIL_CLOSED_RULE)
