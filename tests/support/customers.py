"""Reading the Customers page over the test client (R5.1-R5.11): one page, every page, the expected order."""

from datetime import datetime

from tests.support.auth import bearer

FIGURES = ("mrr_cents", "ports", "vcs", "cloud", "last_activity", "last_order")


def page(client, user="ada@acme.example", partner="acme", **query):
    """One page of a partner's Customers page, as `user` sees it."""
    return client.get(f"/v1/partners/{partner}/customers", query_string={"user": user, **query},
                      headers=bearer())


def walk(client, user="ada@acme.example", limit=1, **query) -> list[dict]:
    """Every row, page by page."""
    items, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        body = page(client, user, limit=limit, **query, **extra).json
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def expected_order(items: list[dict], sort: str) -> list[dict]:
    """R5.11 from the values shown: by the column, nulls last both ways, ties by name then id;
    `-name` is the exact reverse of `name`."""
    column, descending = sort.lstrip("-"), sort.startswith("-")

    def value_of(row):
        value = row[column]
        is_time = isinstance(value, str) and column != "name"
        return datetime.fromisoformat(value[:-1]) if is_time else value

    by_name = sorted(items, key=lambda r: (r["name"], r["customer_id"]))
    if column == "name":
        return by_name[::-1] if descending else by_name
    have = sorted((r for r in by_name if r[column] is not None), key=value_of, reverse=descending)
    return have + [r for r in by_name if r[column] is None]

