"""The policy in force for the request being served, for use cases called without one.

The api sets it before each request from the app's loaded policy (a reload swaps that
reference, R9.6); code outside a request passes its policy explicitly.
"""

from contextvars import ContextVar

from authz_service.policy import Policy

_current: ContextVar[Policy | None] = ContextVar("authz_policy_in_force", default=None)


def use(policy: Policy | None) -> None:
    """The policy the rest of this request decides with (None: none)."""
    _current.set(policy)


def policy() -> Policy:
    """The policy set for this request; RuntimeError outside one (never a silent default)."""
    found = _current.get()
    if found is None:
        raise RuntimeError("no policy in force here: pass one explicitly")
    return found
