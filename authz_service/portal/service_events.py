"""Services and logins as other systems report them (R5, R8): each service call a decision."""

from datetime import datetime

from authz_service.decide import authorize
from authz_service.decide.gather import gather
from authz_service.log import chain
from authz_service.mail import notifications
from authz_service.policy import Policy
from authz_service.store import NotFound, directory, services, summary
from authz_service.store.models import utcnow

# docs/api.md "Services": the resource whose actions decide about each kind (R3).
KINDS = {
    "port": "port", "lag": "lag", "cross_connect": "cross_connect",
    "cloud_hosted": "cloud_connection", "cloud_dedicated": "cloud_connection",
    "cloud_router": "cloud_router", "point_to_point": "point_to_point",
    "virtual_circuit": "virtual_circuit",
}


class NotUpgradable(Exception):
    """The kind has no `upgrade` action in the policy (lag, cross_connect): docs/api.md 422."""


def on_service_event(event: str, customer: dict, service: dict, actor: str,
                     on_behalf_of: str | None) -> None:
    """Called inside the transaction of each provision or delete: mail to admin contacts (R8.1)."""
    notifications.enqueue_service_event({
        "event_id": f"{event}:{customer['id']}:{service['service_id']}", "event": event,
        "partner_id": customer["partner_id"], "customer_id": customer["id"],
        "customer_name": customer["name"], "service_id": service["service_id"],
        "service_kind": service["kind"], "monthly_price_cents": service["monthly_price_cents"],
        "actor": actor, "on_behalf_of_partner": on_behalf_of,
        "at": service["deleted_at"] if event == "deleted" else service["created_at"]})


def _customer(customer_id: str) -> dict:
    found = directory.get_account(customer_id)
    if found is None or found["kind"] != "customer":
        raise NotFound("customer", customer_id)
    return found


def _live(customer_id: str, service_id: str) -> dict:
    found = services.get(customer_id, service_id)
    if found is None or found["deleted_at"] is not None:
        raise NotFound("service", service_id)
    return found


def _change(policy: Policy, actor: str, customer_id: str, service: dict, verb: str,
            session: str | None, caller: str | None):
    """`<resource>.<verb>` on the customer, recorded in its log (R7.2); Denied changes nothing, and
    a change that fails after its allow is recorded as not done (authorize.change)."""
    action = f"{KINDS[service['kind']]}.{verb}"
    return authorize.change(policy, actor, action, customer_id,
                            {"type": service["kind"], "id": service["service_id"]}, session, caller)


def _acting_partner(actor: str, customer: dict) -> str | None:
    """The partner when one of its users acts on the customer's behalf (R7.1, R8.1)."""
    user = directory.get_user(actor)
    return customer["partner_id"] if user and user["account_id"] != customer["id"] else None


def create(policy: Policy, actor: str, customer_id: str, service: dict,
           session: str | None = None, caller: str | None = None) -> dict:
    """A provisioned service; needs `<resource>.create`. 409 when the id is taken."""
    customer = _customer(customer_id)
    with _change(policy, actor, customer_id, service, "create", session, caller):
        now = utcnow()
        service = {**service, "ordered_at": service.get("ordered_at") or now}
        with summary.transaction():
            made = services.create(customer_id, service, now)
            on_service_event("provisioned", customer, made, actor, _acting_partner(actor, customer))
    return made


def upgrade(policy: Policy, actor: str, customer_id: str, service_id: str, changes: dict,
            session: str | None = None, caller: str | None = None) -> dict:
    """A new price or billing start; needs `<resource>.upgrade` (none for lag, cross_connect)."""
    _customer(customer_id)
    found = _live(customer_id, service_id)
    if not policy.is_action(f"{KINDS[found['kind']]}.upgrade"):
        raise NotUpgradable(found["kind"])
    with _change(policy, actor, customer_id, found, "upgrade", session, caller), summary.transaction():
        return services.update(customer_id, service_id, changes, utcnow())


def delete(policy: Policy, actor: str, customer_id: str, service_id: str,
           session: str | None = None, caller: str | None = None) -> None:
    """Delete a live service (404 if already gone); needs `<resource>.delete`."""
    customer = _customer(customer_id)
    found = _live(customer_id, service_id)
    with _change(policy, actor, customer_id, found, "delete", session, caller), summary.transaction():
        gone = services.delete(customer_id, service_id, utcnow())
        on_service_event("deleted", customer, gone, actor, _acting_partner(actor, customer))


def record_login(policy: Policy, account_id: str, user: str, at: datetime | None = None,
                 caller: str | None = None) -> None:
    """A login: an entry in the account's log, and last activity for its own users (R5.6)."""
    if directory.get_account(account_id) is None:
        raise NotFound("account", account_id)
    if directory.get_user(user) is None:
        raise NotFound("user", user)
    at = at or utcnow()
    got = gather(user, account_id)
    entry = {"at": at, "user_email": user.lower(), "account_id": account_id,
             "log_account": account_id, "action": "login", "allowed": True,
             "group": policy.decide(got.facts, "account.view").group, "rule": "fact:login",
             "reason": "login", "caller": caller, "on_behalf_of_partner": got.acting_partner}
    is_home = got.home_account == account_id
    chain.append([entry], activity=([account_id], at) if is_home else None)
