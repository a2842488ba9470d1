"""An account's activity log for a user of the portal (R7.3): decided, then read."""

from authz_service.decide import authorize
from authz_service.log import audit
from authz_service.policy import Policy
from authz_service.store import NotFound, directory


def activity(policy: Policy, user: str, account_id: str, limit: int, cursor: str | None,
             caller: str | None = None) -> tuple[list[dict], str | None]:
    """The account's activity, newest first; reading it is an `activity.view` decision, recorded there."""
    if directory.get_account(account_id) is None:
        raise NotFound("account", account_id)
    authorize.require(policy, user, "activity.view", account_id,
                      {"type": "activity", "id": account_id}, None, caller)
    return audit.activity(account_id, limit, cursor)
