"""How the console shows values (decision 036): times humanized ("3 h ago") with the exact UTC
in <time datetime> and its title (templates/console/macros.html), money as dollars with the currency, the seed's column names."""

from datetime import UTC, datetime

CURRENCY = "USD"  # money is integer cents of one currency (R5.2); the seed's figures are dollars
# The seed's own column names for the Customers page (R5.1), by the API's field names.
COLUMN_NAMES = {"mrr_cents": "MRR", "ports": "Ports", "vcs": "VCs", "cloud": "Cloud",
                "last_activity": "Last Activity", "last_order": "Last Order"}
STEPS = ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "min"))


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def humanized(value: datetime, now: datetime | None = None) -> str:
    """"3 h ago", "in 5 d", "just now": the largest whole unit, for a person scanning a table."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    seconds = (now - _naive_utc(value)).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "just now"
    count, unit = next((int(size // step), unit) for step, unit in STEPS if size >= step)
    return f"{count} {unit} ago" if seconds > 0 else f"in {count} {unit}"


def exact(value: datetime) -> str:
    """The exact time for a person: "2026-12-06 16:29:17 UTC" (the title of a humanized time)."""
    return _naive_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def money(cents: int | None) -> str:
    """Integer cents as "$1,220.00" (the currency is named in the column's header)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def register(blueprint) -> None:
    """Make the filters available to every console template."""
    blueprint.add_app_template_filter(humanized, "ago")
    blueprint.add_app_template_filter(exact, "exact")
    blueprint.add_app_template_filter(money, "money")
    blueprint.add_app_template_global(COLUMN_NAMES, "column_names")
    blueprint.add_app_template_global(CURRENCY, "currency")
