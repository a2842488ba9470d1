"""One decision (POST /v1/authorize), and Forbidden for `require`."""

from dataclasses import dataclass
from typing import Any

from authz_client.errors import AuthzClientError

FAIL_CLOSED_RULE = "client:fail-closed"


@dataclass(frozen=True)
class Decision:
    """One answer of POST /v1/authorize; truthy when allowed.

    A decision the client made itself because the service could not answer is a denial
    with `rule == "client:fail-closed"` and no `decision_id`.
    """

    allowed: bool
    reason: str
    rule: str
    group: str | None = None
    decision_id: str | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @classmethod
    def from_json(cls, body: Any) -> "Decision":
        """The decision in a service answer; ValueError when the answer is not one."""
        if not isinstance(body, dict) or not isinstance(body.get("allowed"), bool):
            raise ValueError("the service's answer was not a decision")
        return cls(body["allowed"], str(body.get("reason", "")), str(body.get("rule", "")),
                   body.get("group"), body.get("decision_id"))

    @classmethod
    def unavailable(cls, why: str) -> "Decision":
        """A denial made by the client: the service could not decide (fail closed)."""
        return cls(False, f"authorization service unavailable: {why}", FAIL_CLOSED_RULE)


class Forbidden(AuthzClientError):
    """`require` was denied, or could not be decided (fail closed); `decision` says why."""

    def __init__(self, decision: Decision):
        super().__init__(decision.reason)
        self.decision = decision
