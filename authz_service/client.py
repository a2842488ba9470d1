"""A small client for services that call authz-service; it fails closed (unreachable = deny).

    client = AuthzClient("http://authz:8080", api_key)
    if client.authorize("ada@acme.example", "port.create", "initech"):
        ...
    client.require("ada@acme.example", "port.create", "initech")   # raises Forbidden on deny

Standard library only, so a caller adds no dependency. For Flask views see `requires`.
"""

import functools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

RETRY_STATUSES = (502, 503, 504)


class AuthzError(Exception):
    """The service answered with an error (4xx) the caller must fix."""

    def __init__(self, status: int, body: dict | None):
        error = (body or {}).get("error", {})
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', '')}")
        self.status, self.code, self.body = status, error.get("code"), body


class Unavailable(Exception):
    """The service could not be reached or kept answering 5xx after the retries."""


class Forbidden(Exception):
    """A `require` that was denied (or could not be decided: fail closed)."""

    def __init__(self, decision: "Decision"):
        super().__init__(decision.reason)
        self.decision = decision


@dataclass(frozen=True)
class Decision:
    """One answer of POST /v1/authorize; truthy when allowed."""

    allowed: bool
    reason: str
    rule: str
    group: str | None = None
    decision_id: str | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @classmethod
    def from_json(cls, body: dict) -> "Decision":
        return cls(body["allowed"], body["reason"], body["rule"], body.get("group"), body.get("decision_id"))

    @classmethod
    def unavailable(cls, why: str) -> "Decision":
        return cls(False, f"authorization service unavailable: {why}", "client:fail-closed")


class AuthzClient:
    """Calls authz-service over HTTP with timeouts and retries (backoff) on 5xx and connection errors."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 2.0, retries: int = 2,
                 backoff: float = 0.1):
        self.base_url, self.api_key = base_url.rstrip("/"), api_key
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        """(status, json) of one call; AuthzError for 4xx, Unavailable after the retries."""
        url = self.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                request = urllib.request.Request(url, data=data, method=method, headers=headers)
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                    return response.status, (json.loads(raw) if raw else None)
            except urllib.error.HTTPError as error:
                raw = error.read()
                parsed = _json_or_none(raw)
                if error.code not in RETRY_STATUSES:
                    raise AuthzError(error.code, parsed) from None
                last = f"HTTP {error.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
                last = str(getattr(error, "reason", error))
        raise Unavailable(last)

    def authorize(self, user: str, action: str, account: str | None = None,
                  resource: dict | None = None, session: str | None = None) -> Decision:
        """The decision; a deny (never an exception) when the service cannot be reached."""
        body = {"user": user, "action": action}
        body.update({k: v for k, v in (("account", account), ("resource", resource),
                                       ("session", session)) if v is not None})
        try:
            return Decision.from_json(self.call("POST", "/v1/authorize", body)[1])
        except Unavailable as exc:
            return Decision.unavailable(str(exc))
        except AuthzError as exc:
            if exc.status < 500:
                raise
            return Decision.unavailable(str(exc))  # a server error is never an allow
        except (KeyError, TypeError, AttributeError, ValueError):
            return Decision.unavailable("the service's answer was not a decision")

    def require(self, user: str, action: str, account: str | None = None, **extra) -> Decision:
        """The decision when allowed; Forbidden otherwise (including when unreachable)."""
        decision = self.authorize(user, action, account, **extra)
        if not decision:
            raise Forbidden(decision)
        return decision

    def batch(self, user: str, checks: list[dict]) -> list[Decision]:
        """Several checks in one call, in order; all deny when unreachable."""
        try:
            results = self.call("POST", "/v1/authorize/batch", {"user": user, "checks": checks})[1]
            return [Decision.from_json(r) for r in results["results"]]
        except AuthzError as exc:
            if exc.status < 500:
                raise
            return [Decision.unavailable(str(exc)) for _ in checks]
        except Unavailable as exc:
            return [Decision.unavailable(str(exc)) for _ in checks]
        except (KeyError, TypeError, AttributeError, ValueError):
            return [Decision.unavailable("the service's answer was not a decision") for _ in checks]

    def accounts(self, user: str, action: str, page_size: int = 500) -> list[str]:
        """Every account where the action is allowed (all pages); [] when unreachable."""
        items, cursor = [], None
        try:
            while True:
                body = {"user": user, "action": action, "limit": page_size}
                if cursor:
                    body["cursor"] = cursor
                page = self.call("POST", "/v1/authorize/accounts", body)[1]
                items += page["items"]
                cursor = page["next_cursor"]
                if not cursor:
                    return items
        except Unavailable:
            return []

    def customers(self, partner_id: str, user: str, **query) -> dict:
        """One page of the Customers page (R5) for `user`."""
        return self.call("GET", f"/v1/partners/{_q(partner_id)}/customers", query={"user": user, **query})[1]

    def link(self, customer_id: str, email: str, user: str, group: str | None = None) -> dict:
        """Link a partner user to a customer (or change the link's group)."""
        body = {"user": user, **({"group": group} if group else {})}
        return self.call("PUT", f"/v1/customers/{_q(customer_id)}/links/{_q(email)}", body)[1]

    def unlink(self, customer_id: str, email: str, user: str) -> None:
        """Revoke a link."""
        self.call("DELETE", f"/v1/customers/{_q(customer_id)}/links/{_q(email)}", query={"user": user})

    def links(self, customer_id: str, user: str) -> list[dict]:
        """The customer's links (first page)."""
        return self.call("GET", f"/v1/customers/{_q(customer_id)}/links", query={"user": user})[1]["items"]

    def open_session(self, user: str, customer_id: str | None = None) -> str:
        """A view session id, bound to `customer_id` when given (R6.1)."""
        session_id = self.call("POST", "/v1/sessions", {"user": user})[1]["session_id"]
        if customer_id:
            self.call("PUT", f"/v1/sessions/{_q(session_id)}/customer", {"customer_id": customer_id})
        return session_id

    def close_session(self, session_id: str) -> None:
        """End a view session."""
        self.call("DELETE", f"/v1/sessions/{_q(session_id)}")

    def create_service(self, customer_id: str, user: str, service_id: str, kind: str,
                       monthly_price_cents: int, **extra) -> dict:
        """Report a provisioned service (checked as <resource>.create)."""
        body = {"user": user, "service_id": service_id, "kind": kind,
                "monthly_price_cents": monthly_price_cents, **extra}
        return self.call("POST", f"/v1/customers/{_q(customer_id)}/services", body)[1]

    def delete_service(self, customer_id: str, service_id: str, user: str, session: str | None = None) -> None:
        """Report a deleted service (checked as <resource>.delete)."""
        query = {"user": user, **({"session": session} if session else {})}
        self.call("DELETE", f"/v1/customers/{_q(customer_id)}/services/{_q(service_id)}", query=query)


def requires(action: str, account, user=None, client=None):
    """Flask view decorator: 403 unless `client.authorize(user(), action, account(**kwargs))` allows.

    It never lets an error through (fails closed): a service that cannot be reached
    or answers 5xx is a denial (403, rule `client:fail-closed`); a call the service
    refuses as malformed (4xx: an unknown action, a bad key) is a denial saying so.

    `account` is a view-argument name or a callable taking the view's kwargs; `user`
    a callable returning the end user's email (default: flask.g.authz_user); `client`
    an AuthzClient or a callable returning one (default: app.extensions["authz_client"]).
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from flask import current_app, g, jsonify

            who = user() if user else g.get("authz_user")
            where = account(**kwargs) if callable(account) else kwargs[account]
            caller = (client() if callable(client) else client) or current_app.extensions["authz_client"]
            try:
                decision = caller.authorize(who, action, where) if who else Decision.unavailable("no user")
            except AuthzError as exc:
                decision = Decision(False, f"authorization could not be decided: {exc}", "client:fail-closed")
            if not decision:
                body = {"error": {"code": "forbidden", "message": decision.reason,
                                  "details": {"decision_id": decision.decision_id, "rule": decision.rule}}}
                return jsonify(body), 403
            g.authz_decision = decision
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None
