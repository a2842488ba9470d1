"""Decisions over time and the most denied actions and users, for one account or all, over the
same filter as GET /v1/decisions (R7.3; decision 036): what the console's chart and ranking show.

The log only grows (R7.4): each process keeps, per filter, running totals (allowed and denied per
hour, denials per action and per user) and the last `seq` they cover; a later view counts only the
entries appended since, in the database. Archiving (the live log's start moves) starts the totals
over. The totals start from the log writer's rollup where it holds the filter (an account or all,
an outcome, whole days: decisions 042, 044), up to its mark, else from a full count of the
filter, once per process.
"""

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from authz_service.log import audit, chain
from authz_service.store import activity_rollup, log_stats

HOURLY_UP_TO = timedelta(days=14)  # a range this short or shorter is drawn per hour
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MOST_BUCKETS = 1000  # gaps are filled up to this many buckets, else only buckets with entries
KEPT = 64  # filters whose totals a process keeps (least recently used dropped first)


@dataclass
class Tally:
    """Running totals of one filter over the live log's entries start < seq <= last."""

    start: int
    last: int
    last_hash: str | None = None  # the chain hash of entry `last`: a restored or other database differs
    hours: Counter = field(default_factory=Counter)  # ("YYYY-MM-DD HH", allowed?) -> entries
    actions: Counter = field(default_factory=Counter)  # action -> denials
    users: Counter = field(default_factory=Counter)  # user -> denials


_tallies: OrderedDict[tuple, Tally] = OrderedDict()
_lock = threading.Lock()


def _key(store_filter: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in store_filter.items() if v is not None))


def _is_whole_day(at: datetime | None) -> bool:
    """No bound, or midnight UTC (an aware time is read in UTC; the log keeps naive UTC)."""
    if at is not None and at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at is None or at == datetime(at.year, at.month, at.day)


def _is_rolled_up(store_filter: dict) -> bool:
    """Whether the log writer's rollup holds the filter (decision 042): an account or all, an
    outcome, whole UTC days (the console's from/to)."""
    return (all(store_filter.get(k) is None for k in ("user_email", "action", "text", "log_account"))
            and store_filter.get("account_id") != "" and _is_whole_day(store_filter.get("since"))
            and _is_whole_day(store_filter.get("until")) and activity_rollup.is_kept())


def _from_rollup(store_filter: dict) -> Tally | None:
    """The filter's totals read from the rollup, up to its mark (the entries after it are
    counted from the log by `tally`); None if the log's start or the mark moved meanwhile (the
    rollup changes only with them, in the same transaction)."""
    before = log_stats.bounds()[0], activity_rollup.mark()
    kept = Tally(*before)
    for hour, allowed, n in activity_rollup.outcomes(store_filter):
        kept.hours[hour, allowed] += n
    kept.actions.update(dict(activity_rollup.denials(store_filter, activity_rollup.BY_ACTION)))
    kept.users.update(dict(activity_rollup.denials(store_filter, activity_rollup.BY_USER)))
    kept.last_hash = log_stats.hash_at(kept.last)
    return kept if (log_stats.bounds()[0], activity_rollup.mark()) == before else None


def _fresh(store_filter: dict, start: int) -> Tally:
    """New totals: from the rollup when it holds the filter, else none yet (a full count)."""
    if _is_rolled_up(store_filter):
        for _ in range(3):
            kept = _from_rollup(store_filter)
            if kept is not None:
                return kept
    return Tally(start, start)


def tally(filters: dict) -> Tally:
    """The filter's totals, brought up to the log's last entry."""
    chain.sync()
    store_filter = audit.wanted(filters)
    with _lock:
        kept = _tallies.pop(_key(store_filter), None)
    start, last = log_stats.bounds()
    if (kept is None or kept.start != start or kept.last > last
            or (kept.last > start and log_stats.hash_at(kept.last) != kept.last_hash)):
        kept = _fresh(store_filter, start)
        start, last = log_stats.bounds()
    if kept.start == start and kept.last < last:
        seqs = (kept.last, last) if kept.last > start else None  # None: every entry, by the best index
        for hour, allowed, action, n in log_stats.per_hour(store_filter, seqs):
            kept.hours[hour, allowed] += n
            if not allowed:
                kept.actions[action] += n
        kept.users.update(dict(log_stats.denials(store_filter, "user_email", seqs)))
        kept.last, kept.last_hash = last, log_stats.hash_at(last)
    with _lock:
        _tallies[_key(store_filter)] = kept
        while len(_tallies) > KEPT:
            _tallies.popitem(last=False)
    return kept


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


def chart(totals: Tally, unit: str) -> Chart:
    """The totals per hour or day; empty buckets between the first and the last are filled with
    zeros (as long as that stays under MOST_BUCKETS)."""
    counts: dict[datetime, list[int]] = {}
    for (hour, allowed), n in totals.hours.items():
        hour = hour.replace("T", " ")  # however the database wrote the time
        at = datetime.strptime(hour if unit == "hour" else hour[:10], "%Y-%m-%d %H" if unit == "hour" else "%Y-%m-%d")
        counts.setdefault(at, [0, 0])[0 if allowed else 1] += n
    found = sorted((at, a, d) for at, (a, d) in counts.items() if a or d)
    if not found or (found[-1][0] - found[0][0]) / STEP[unit] >= MOST_BUCKETS:
        return Chart(unit, found)
    filled, at = [], found[0][0]
    while at <= found[-1][0]:
        filled.append((at, *counts.get(at, (0, 0))))
        at += STEP[unit]
    return Chart(unit, filled)


def most_denied(totals: Tally, limit: int = 10) -> dict[str, list[tuple[str, int]]]:
    """{"actions": [(action, denials)], "users": [(email, denials)]}, most first, ties by name."""
    def top(counter: Counter) -> list[tuple[str, int]]:
        return sorted(((k, n) for k, n in counter.items() if n), key=lambda kv: (-kv[1], kv[0]))[:limit]

    return {"actions": top(totals.actions), "users": top(totals.users)}
