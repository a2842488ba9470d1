"""AuthZEN 1.0's three searches on our domain (docs/api.md "AuthZEN 1.0"), each recorded once.

Subjects are users (`{"type": "user", "id": email}`), resources accounts, actions R3 names;
any other type, an unknown id or an unknown action finds nothing (`[]`), never an error. The
answers come from the access use cases (portal/access.py), complete and paged. A search is
recorded as the API key that asked, in no account's activity log and never as the searched
user's activity (R7.5; docs/decisions/028-authzen.md).
"""

from authz_service.log import chain
from authz_service.policy import Policy
from authz_service.portal import access
from authz_service.store.models import utcnow

USER, ACCOUNT = "user", "account"


def subjects(policy: Policy, caller: str, subject_type: str, action: str, resource: dict,
             limit: int, token: str | None) -> tuple[list[dict], str | None]:
    """Users who may do `action` on the account `resource`: [{"type", "id", "properties"}]."""
    found, after = [], None
    if subject_type == USER and resource["type"] == ACCOUNT and policy.is_action(action):
        items, after = access.who_can(resource["id"], action, limit, token, policy=policy)
        found = [{"type": USER, "id": i["email"], "properties": _holding(i)} for i in items]
    _record(caller, "subject", resource["id"], {"type": resource["type"], "id": resource["id"]},
            f"users who may do {action} on {resource['type']} {resource['id']}", found, after)
    return found, after


def resources(policy: Policy, caller: str, subject: dict, action: str, resource_type: str,
              limit: int, token: str | None) -> tuple[list[dict], str | None]:
    """Accounts where the user `subject` may do `action`: [{"type", "id", "properties"}]."""
    found, after = [], None
    if subject["type"] == USER and resource_type == ACCOUNT and policy.is_action(action):
        items, after = access.accounts_for(subject["id"], action, limit, token, policy=policy)
        found = [{"type": ACCOUNT, "id": i["account_id"],
                  "properties": {"name": i["name"], "kind": i["kind"], **_holding(i)}} for i in items]
    _record(caller, "resource", None, subject,
            f"{resource_type} resources where {subject['type']} {subject['id']} may do {action}",
            found, after)
    return found, after


def actions(policy: Policy, caller: str, subject: dict, resource: dict) -> list[dict]:
    """What the user `subject` may do on the account `resource`: [{"name"}], sorted by name."""
    found = []
    if subject["type"] == USER and resource["type"] == ACCOUNT:
        found = [{"name": name} for name in
                 access.actions_for(subject["id"], resource["id"], policy=policy)]
    _record(caller, "action", resource["id"], subject,
            f"what {subject['type']} {subject['id']} may do on {resource['type']} {resource['id']}",
            found, None)
    return found


def _holding(item: dict) -> dict:
    """The group held and how (R10.3), as a result's properties."""
    held = {"group": item["group"], "via": item["via"]}
    ends = item.get("expires_at")
    if ends is not None:  # R10.1: until when, RFC 3339 in UTC as every time of the API
        held["expires_at"] = ends.isoformat(timespec="microseconds" if ends.microsecond else "seconds") + "Z"
    return held


def _record(caller: str, kind: str, account: str | None, about: dict, question: str,
            found: list, after: str | None) -> None:
    """One entry per search answered, named as the key that asked (R7.5): no account's
    activity, nobody's last activity; auditors read it in GET /v1/decisions."""
    more = "; more on a next page" if after else ""
    entry = {"at": utcnow(), "user_email": f"api key {caller}", "account_id": account,
             "log_account": None, "action": f"authzen.search_{kind}",
             "resource_type": str(about.get("type")), "resource_id": str(about.get("id")),
             "allowed": True, "group": None, "rule": "key scope: decide",
             "reason": f"AuthZEN {kind} search: {question}: {len(found)} found{more}",
             "session_id": None, "caller": caller, "on_behalf_of_partner": None}
    chain.append([entry])
