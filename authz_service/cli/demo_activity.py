"""The demo's activity (`authz demo`): services with prices and customers' logins from the
named demo data, so the Customers page shows figures (R5.2-R5.7; docs/decisions/021)."""

from datetime import datetime, timedelta

from authz_service.policy import Policy
from authz_service.portal import service_events
from authz_service.store import fixtures, summary
from authz_service.store import services as store_services
from authz_service.store.models import utcnow


def _days_ago(now: datetime, days: float | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def _add_services(items: list[dict], now: datetime) -> int:
    """Each service not there yet, as the provisioning system reports it; how many were added.

    Stored as the system of record's state, not as decisions of a user: the demo's users did
    not ask for them, so the log does not say they did."""
    added = 0
    for item in items:
        if store_services.get(item["customer"], item["service_id"]) is not None:
            continue
        service = {"service_id": item["service_id"], "kind": item["kind"],
                   "monthly_price_cents": item["monthly_price_cents"],
                   "ordered_at": _days_ago(now, item["ordered_days_ago"]),
                   "billing_starts_at": _days_ago(now, item.get("billing_days_ago"))}
        with summary.transaction():
            store_services.create(item["customer"], service, now)
        added += 1
    return added


def _add_logins(policy: Policy, items: list[dict], now: datetime) -> int:
    """Each login of an account with no activity yet (a rerun adds none); how many."""
    added = 0
    for item in items:
        figures = summary.read(item["account"])
        if figures is None or figures["last_activity"] is not None:
            continue
        service_events.record_login(policy, item["account"], item["user"],
                              _days_ago(now, item["days_ago"]), caller="demo")
        added += 1
    return added


def load(policy: Policy, path=fixtures.DEFAULT, now: datetime | None = None) -> tuple[int, int]:
    """(services, logins) added from the file's [[services]] and [[logins]]; the directory it
    names (fixtures.load) must be loaded first."""
    data, now = fixtures.read(path), now or utcnow()
    return (_add_services(data.get("services", []), now),
            _add_logins(policy, data.get("logins", []), now))
