"""AuthzClient: one method per call a service makes; decisions fail closed (unreachable = deny)."""

import urllib.parse
from typing import Any

from authz_client.authzen import AuthZEN
from authz_client.decision import Decision, Forbidden
from authz_client.errors import Unavailable
from authz_client.log_proofs import LogProofs
from authz_client.transport import Transport

JSON = dict[str, Any]


class AuthzClient(AuthZEN, LogProofs):
    """Calls authz-service over HTTP: one pool of kept-alive connections, a timeout per attempt,
    retries (exponential backoff) only for calls that are safe to repeat (see transport.py).

    Decisions (`authorize`, `require`, `batch`, `accounts`, and AuthZEN's `evaluate` and
    `evaluations`, which deny on any error) never let an outage through: they deny. Every
    other call raises AuthzError (4xx: fix the call) or Unavailable (no answer;
    `maybe_changed` says whether a write may have happened). Thread-safe; `close()` or use it
    as a context manager to drop its connections.
    """

    def __init__(self, base_url: str, api_key: str, timeout: float = 2.0, retries: int = 2,
                 backoff: float = 0.1, pool_size: int = 10):
        self.transport = Transport(base_url, api_key, timeout, retries, backoff, pool_size)

    def __enter__(self) -> "AuthzClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept connections (the client opens new ones if used again)."""
        self.transport.close()

    def call(self, method: str, path: str, body: Any = None,
             query: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, JSON) of any call; AuthzError for 4xx, Unavailable when there is no answer."""
        return self.transport.call(method, path, body, query)

    def authorize(self, user: str, action: str, account: str | None = None,
                  resource: dict[str, str] | None = None, session: str | None = None) -> Decision:
        """The decision. A denial (rule `client:fail-closed`, never an exception) when the
        service cannot be reached, answers 5xx or something that is not a decision; AuthzError
        for a call the service refuses (400 unknown action, 401 bad key, 403 missing scope)."""
        body = {"user": user, "action": action, "account": account, "resource": resource,
                "session": session}
        try:
            answer = self.call("POST", "/v1/authorize", _present(body))[1]
            return Decision.from_json(answer)
        except Unavailable as exc:
            return Decision.unavailable(str(exc))
        except ValueError as exc:
            return Decision.unavailable(str(exc))

    def require(self, user: str, action: str, account: str | None = None,
                resource: dict[str, str] | None = None, session: str | None = None) -> Decision:
        """The decision when allowed; Forbidden otherwise, unreachable included. AuthzError as
        `authorize`."""
        decision = self.authorize(user, action, account, resource, session)
        if not decision:
            raise Forbidden(decision)
        return decision

    def batch(self, user: str, checks: list[JSON]) -> list[Decision]:
        """One decision per check (`{"action", "account", "resource"?}`), in order; all deny
        when the service cannot answer. AuthzError for a refused call (400, 422: 0 or >1000)."""
        try:
            answer = self.call("POST", "/v1/authorize/batch", {"user": user, "checks": checks})[1]
            return [Decision.from_json(item) for item in answer["results"]]
        except (Unavailable, ValueError, KeyError, TypeError) as exc:
            why = str(exc) if isinstance(exc, Unavailable) else "the answer was not decisions"
            return [Decision.unavailable(why) for _ in checks]

    def accounts(self, user: str, action: str, page_size: int = 500) -> list[str]:
        """Every account where `action` is allowed for `user` (all pages); [] when the service
        cannot answer. AuthzError for a refused call (400 unknown action)."""
        items: list[str] = []
        body: JSON = {"user": user, "action": action, "limit": page_size}
        try:
            while True:
                page = self.call("POST", "/v1/authorize/accounts", body)[1]
                items += page["items"]
                if not page["next_cursor"]:
                    return items
                body["cursor"] = page["next_cursor"]
        except (Unavailable, KeyError, TypeError):
            return []

    def who_can(self, customer_id: str, user: str, action: str | None = None,
                page_size: int = 500) -> list[JSON]:
        """Every user who holds a group on the customer (with `action`, those it allows), all
        pages: `[{"email", "group", "via", "expires_at"}]` (R10.3). Fails closed: [] when the
        service cannot answer or answers something that is not such a page, never a part of
        the list. AuthzError 403 (`user` may not read it), 404 (unknown customer), 400
        (unknown action)."""
        items: list[JSON] = []
        query: JSON = _present({"user": user, "action": action, "limit": page_size})
        path = f"/v1/customers/{_q(customer_id)}/access"
        try:
            while True:
                page = self.call("GET", path, query=query)[1]
                if not all(isinstance(i, dict) and isinstance(i.get("email"), str) for i in page["items"]):
                    return []
                items += page["items"]
                if not page["next_cursor"]:
                    return items
                query["cursor"] = page["next_cursor"]
        except (Unavailable, KeyError, TypeError):
            return []

    def customers(self, partner_id: str, user: str, **query: Any) -> JSON:
        """One page of the Customers page (R5) for `user`: `{"items", "next_cursor"}`; query
        options `hide_inactive`, `sort`, `limit`, `cursor`. AuthzError 403 for a user of
        another partner, 422 for an unknown sort; Unavailable when there is no answer."""
        path = f"/v1/partners/{_q(partner_id)}/customers"
        result: JSON = self.call("GET", path, query={"user": user, **query})[1]
        return result

    def link(self, customer_id: str, email: str, user: str, group: str | None = None,
             expires_at: str | None = None) -> JSON:
        """Link a partner user to a customer, or change the link's group or end (`expires_at`, an
        RFC 3339 time at most a year ahead: from then on the link counts nowhere, R10.1): the
        link. AuthzError 403 (`user` lacks grant.manage), 404 (unknown email), 409 (an admin,
        another partner's or a customer's user), 422 (a past or malformed end); Unavailable when
        there is no answer (PUT: retried, safe)."""
        body = _present({"user": user, "group": group, "expires_at": expires_at})
        result: JSON = self.call("PUT", f"/v1/customers/{_q(customer_id)}/links/{_q(email)}",
                                 body)[1]
        return result

    def unlink(self, customer_id: str, email: str, user: str) -> None:
        """Revoke a link. AuthzError 403, or 404 when there is no such link; Unavailable when
        there is no answer (never repeated: check `links` when `maybe_changed`)."""
        self.call("DELETE", f"/v1/customers/{_q(customer_id)}/links/{_q(email)}",
                  query={"user": user})

    def links(self, customer_id: str, user: str) -> list[JSON]:
        """The customer's links (first page): `[{"email", "group", "linked_at", ...}]`."""
        page = self.call("GET", f"/v1/customers/{_q(customer_id)}/links", query={"user": user})[1]
        items: list[JSON] = page["items"]
        return items

    def open_session(self, user: str, customer_id: str | None = None) -> str:
        """A new view session's id, bound to `customer_id` when given (R6.1). AuthzError 403
        when `user` does not see that customer; Unavailable (the POST is never repeated)."""
        session_id: str = self.call("POST", "/v1/sessions", {"user": user})[1]["session_id"]
        if customer_id:
            self.call("PUT", f"/v1/sessions/{_q(session_id)}/customer",
                      {"customer_id": customer_id})
        return session_id

    def close_session(self, session_id: str) -> None:
        """End a view session. AuthzError 404 when there is none; Unavailable."""
        self.call("DELETE", f"/v1/sessions/{_q(session_id)}")

    def create_service(self, customer_id: str, user: str, service_id: str, kind: str,
                       monthly_price_cents: int, **extra: Any) -> JSON:
        """Report a provisioned service (checked as <resource>.create): the service.
        AuthzError 403 (denied), 409 (duplicate id), 422 (bad kind or price); Unavailable
        (never repeated: with `maybe_changed`, look before reporting it again)."""
        body = {"user": user, "service_id": service_id, "kind": kind,
                "monthly_price_cents": monthly_price_cents, **extra}
        result: JSON = self.call("POST", f"/v1/customers/{_q(customer_id)}/services", body)[1]
        return result

    def delete_service(self, customer_id: str, service_id: str, user: str,
                       session: str | None = None) -> None:
        """Report a deleted service (checked as <resource>.delete). AuthzError 403 or 404;
        Unavailable (never repeated)."""
        self.call("DELETE", f"/v1/customers/{_q(customer_id)}/services/{_q(service_id)}",
                  query={"user": user, "session": session})


def _present(body: JSON) -> JSON:
    return {key: value for key, value in body.items() if value is not None}


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


