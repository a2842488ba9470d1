"""AuthZEN 1.0 evaluations for AuthzClient (the service's docs/api.md "AuthZEN 1.0").

Fail closed, always: any error (no answer, 5xx, a refused call, an answer that is not a
decision) is a denial with rule `client:fail-closed` and no `decision_id`, never an exception.
"""

from typing import Any

from authz_client.decision import FAIL_CLOSED_RULE, Decision
from authz_client.errors import AuthzClientError

JSON = dict[str, Any]
SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")


def _resource(account: str, target: dict[str, str] | None) -> JSON:
    resource: JSON = {"type": "account", "id": account}
    if target is not None:
        resource["properties"] = {"target": target}
    return resource


def _context(session: str | None) -> JSON:
    return {"context": {"session": session}} if session is not None else {}


def _refused(why: str) -> Decision:
    return Decision(False, f"not decided: {why}", FAIL_CLOSED_RULE)


def decision_of(answer: Any) -> Decision:
    """The Decision in one AuthZEN answer; ValueError when it is not one. An answer the service
    could not decide (`context.error`) is a denial saying why."""
    if not isinstance(answer, dict) or not isinstance(answer.get("decision"), bool):
        raise ValueError("the service's answer was not a decision")
    context: JSON = answer["context"] if isinstance(answer.get("context"), dict) else {}
    error = context.get("error")
    if isinstance(error, dict):
        return _refused(f"{error.get('code', '')}: {error.get('message', '')}")
    return Decision(answer["decision"], str(context.get("reason", "")), str(context.get("rule", "")),
                    context.get("group"), context.get("decision_id"))


class AuthZEN:
    """POST /access/v1/evaluation and /evaluations, mixed into AuthzClient."""

    def call(self, method: str, path: str, body: Any = None,
             query: dict[str, Any] | None = None) -> tuple[int, Any]:
        raise NotImplementedError  # AuthzClient.call

    def evaluate(self, user: str, action: str, account: str, target: dict[str, str] | None = None,
                 session: str | None = None) -> Decision:
        """May `user` do `action` (an R3 name) on `account`? `target` (`{"type", "id"}`) is
        recorded as what the decision is about; `session` is a view session. Any failure is a
        denial (rule `client:fail-closed`), never an exception."""
        body = {"subject": {"type": "user", "id": user}, "action": {"name": action},
                "resource": _resource(account, target), **_context(session)}
        try:
            return decision_of(self.call("POST", "/access/v1/evaluation", body)[1])
        except (AuthzClientError, ValueError) as exc:
            return _refused(str(exc))

    def evaluations(self, user: str, checks: list[JSON], semantic: str = "execute_all",
                    session: str | None = None) -> list[Decision]:
        """One decision per check (`{"action", "account", "target"?, "user"?}`: `user` overrides
        the default), in order. `deny_on_first_deny` and `permit_on_first_permit` stop early,
        so fewer come back. Any failure is a denial for every check, never an exception."""
        items = [{"action": {"name": c["action"]}, "resource": _resource(c["account"], c.get("target")),
                  **({"subject": {"type": "user", "id": c["user"]}} if "user" in c else {})}
                 for c in checks]
        body = {"subject": {"type": "user", "id": user}, "options": {"evaluations_semantic": semantic},
                "evaluations": items, **_context(session)}
        if not items:
            return []
        try:
            answer = self.call("POST", "/access/v1/evaluations", body)[1]
            found = [decision_of(item) for item in answer["evaluations"]]
            if not 0 < len(found) <= len(items) or (semantic == "execute_all" and len(found) != len(items)):
                raise ValueError("the service answered another number of decisions")
            return found
        except (AuthzClientError, ValueError, KeyError, TypeError) as exc:
            return [_refused(str(exc)) for _ in items]
