"""What the client raises: every exception is an AuthzClientError."""

from typing import Any


class AuthzClientError(Exception):
    """The base of every exception this package raises."""


class AuthzError(AuthzClientError):
    """The service refused the call (4xx): the caller must fix it, never retry it as it is.

    `status` is the HTTP status, `code` the contract's `error.code` (e.g. `unknown_action`,
    `not_found`, `forbidden`), `body` the whole JSON answer (None when it was not JSON).
    """

    def __init__(self, status: int, body: Any):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        error = error if isinstance(error, dict) else {}
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', '')}")
        self.status = status
        self.code: str | None = error.get("code")
        self.body = body


class Unavailable(AuthzClientError):
    """No usable answer: the service could not be reached, kept answering 5xx, or its answer
    was not JSON.

    `status` is the last HTTP status (None when nothing was answered). `maybe_changed` is
    True when the call was a write that may have reached the service (it was sent, or the
    service answered 5xx, e.g. a 503 "change stored, not yet confirmed"): read the state
    back before doing it again. Such a call is never repeated by the client.
    """

    def __init__(self, why: str, status: int | None = None, body: Any = None,
                 maybe_changed: bool = False):
        super().__init__(why)
        self.status, self.body, self.maybe_changed = status, body, maybe_changed
