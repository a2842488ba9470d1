"""Decisions over time and the most denied actions and users, for one account or all, over the
same filter as GET /v1/decisions (R7.3; decision 036): what the console's chart and ranking show."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from authz_service.log import audit, chain
from authz_service.store import log_stats

HOURLY_UP_TO = timedelta(days=14)  # a range this short or shorter is drawn per hour
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MOST_BUCKETS = 1000  # gaps are filled up to this many buckets, else only buckets with entries


@dataclass
class Chart:
    """Allowed and denied per bucket, oldest first, and the bucket's length."""

    unit: str
    buckets: list[tuple[datetime, int, int]]

    @property
    def highest(self) -> int:
        """The tallest bucket's total (the chart's scale)."""
        return max((a + d for _, a, d in self.buckets), default=0)


def unit_for(filters: dict, asked: str = "") -> str:
    """"hour" or "day": as asked, else per hour for a range of 14 days or less, else per day."""
    if asked in STEP:
        return asked
    since, until = filters.get("since"), filters.get("until")
    return "hour" if since and until and until - since <= HOURLY_UP_TO else "day"


def chart(filters: dict, unit: str) -> Chart:
    """The filter's entries counted per hour or day; empty buckets between the first and the
    last are filled with zeros (as long as that stays under MOST_BUCKETS)."""
    chain.sync()
    found = log_stats.over_time(audit.wanted(filters), unit)
    if not found or (found[-1][0] - found[0][0]) / STEP[unit] >= MOST_BUCKETS:
        return Chart(unit, found)
    counts = {at: (a, d) for at, a, d in found}
    filled, at = [], found[0][0]
    while at <= found[-1][0]:
        filled.append((at, *counts.get(at, (0, 0))))
        at += STEP[unit]
    return Chart(unit, filled)


def most_denied(filters: dict, limit: int = 10) -> dict[str, list[tuple[str, int]]]:
    """{"actions": [(action, denials)], "users": [(email, denials)]}, most first."""
    chain.sync()
    store_filter = audit.wanted(filters)
    return {"actions": log_stats.most_denied(store_filter, "action", limit),
            "users": log_stats.most_denied(store_filter, "user_email", limit)}
