"""The Customers page as SQL: the viewer's rows, masked per link group, sorted and paged by index.

Masking is a CASE over the viewer's link group on each customer (the groups that
hide a column come from the policy), so a masked figure is NULL before it is
sorted, filtered or put in a cursor (R5.10). A sort by a figure reads two ranges:
rows with a value (by value, name, id), then rows without one (by name, id), so
empty and masked values come last in both directions.
"""

from dataclasses import dataclass
from datetime import datetime

from authz_service.store.links import now_micros
from authz_service.store.models import CustomerFigures, Link, from_micros, to_micros
from authz_service.store.models import database as db
from authz_service.store.summary import SORTABLE

TIMES = ("last_activity", "last_order")
LOWEST = -(2**63 - 1)
FIGURES, LINKS = CustomerFigures._meta.table_name, Link._meta.table_name


@dataclass(frozen=True)
class View:
    """Whom the viewer sees and which link groups mask which column, as the policy says."""

    partner_id: str
    email: str
    all_owned: bool  # every customer of the partner, whatever the link (R4.1)
    seeing: tuple[str, ...]  # link values (no_link included) of the rows the viewer sees
    link_filter: bool  # all_owned, yet some link values hide the customer
    join_link: bool  # rows differ by link group (group, masks): read it
    hidden: dict  # column -> link values for which the column is masked (R5.8)
    no_link: str


@dataclass(frozen=True)
class Order:
    """Sort column and direction, the hide-inactive filter and its cutoff (R5.9, R5.11)."""

    column: str
    descending: bool
    hide_inactive: bool
    cutoff: datetime


class Q:
    """SQL text and its parameters, built in order."""

    def __init__(self, text: str = "", *params):
        self.text, self.params = text, list(params)

    def __add__(self, other: "Q") -> "Q":
        return Q(self.text + other.text, *self.params, *other.params)


def _in(values) -> Q:
    values = sorted(values)
    return Q("(" + ", ".join([db.param] * len(values)) + ")", *values)


def _link(view: View) -> Q:
    return Q(f"COALESCE(l.grp, {db.param})", view.no_link)


def _value(view: View, column: str) -> Q | None:
    """The column as the viewer sees it: itself, a CASE masking it, or None (always masked)."""
    hidden = set(view.hidden.get(column, view.seeing)) & set(view.seeing)
    if not hidden:
        return Q(f"s.{column}")
    if hidden == set(view.seeing):
        return None
    return Q("CASE WHEN ") + _link(view) + Q(" IN ") + _in(hidden) + Q(f" THEN NULL ELSE s.{column} END")


def _live(now: int) -> Q:
    """R10.1: a link past its end is no link (store/links.live, as SQL text)."""
    return Q(f" AND (l.expires_at IS NULL OR l.expires_at > {db.param})", now)


def _source(view: View) -> Q:
    p, now = db.param, now_micros()
    if not view.all_owned:
        # CROSS JOIN: SQLite keeps the viewer's links as the outer loop (never a scan of the
        # partner's customers in sort order); PostgreSQL plans it as any inner join.
        return (Q(f'FROM "{LINKS}" AS l CROSS JOIN "{FIGURES}" AS s '
                  f"WHERE s.customer_id = l.customer_id AND l.user_email = {p} AND l.grp IN ",
                  view.email) + _in(view.seeing) + _live(now)
                + Q(f" AND s.partner_id = {p}", view.partner_id))
    source = Q(f'FROM "{FIGURES}" AS s')
    if view.join_link:
        source += Q(f' LEFT JOIN "{LINKS}" AS l ON l.customer_id = s.customer_id AND l.user_email = {p}',
                    view.email) + _live(now)
    source += Q(f" WHERE s.partner_id = {p}", view.partner_id)
    if view.link_filter:
        source += Q(" AND ") + _link(view) + Q(" IN ") + _in(view.seeing)
    return source


def _hide(view: View, order: Order) -> Q:
    """R5.9, R5.10: leave out inactive rows, never one whose mrr or times are masked."""
    if not order.hide_inactive:
        return Q()
    masking = set().union(*(view.hidden.get(c, view.seeing) for c in ("mrr_cents", *TIMES)))
    if masking >= set(view.seeing):
        return Q()
    cut = to_micros(order.cutoff)
    inactive = Q("s.mrr_cents = 0" + "".join(
        f" AND (s.{c} IS NULL OR s.{c} < {db.param})" for c in TIMES), cut, cut)
    if masking:
        inactive = _link(view) + Q(" NOT IN ") + _in(masking) + Q(" AND ") + inactive
    return Q(" AND NOT (") + inactive + Q(")")


def _select(view: View) -> Q:
    values = [_value(view, c) or Q("NULL") for c in SORTABLE]
    head = Q("SELECT s.customer_id, s.name, " + ("l.grp" if view.join_link else "NULL"))
    for value in values:
        head += Q(", ") + value
    return head + Q(" ")


def _run(query: Q, limit: int) -> list[tuple]:
    return db.execute_sql(f"{query.text} LIMIT {int(limit)}", query.params).fetchall()


def _by_name(view: View, order: Order, base: Q, after: list | None, limit: int) -> list[tuple]:
    """Name order (the default), or its exact reverse: one range of the name index."""
    op, way = ("<", " DESC") if order.descending else (">", "")
    if after is not None:
        base += Q(f" AND (s.name, s.customer_id) {op} ({db.param}, {db.param})", after[0], after[1])
    return _run(base + Q(f" ORDER BY s.name{way}, s.customer_id{way}"), limit)


def _by_figure(view: View, order: Order, base: Q, after: list | None, limit: int) -> list[tuple]:
    """Rows with a value by (value, name, id), then rows without one by (name, id) (R5.11)."""
    p, value, rows = db.param, _value(view, order.column), []
    if value is not None and (after is None or after[0] is not None):
        key = Q("-(") + value + Q(")") if order.descending else value
        start = LOWEST if after is None else (-after[0] if order.descending else after[0])
        where = Q(" AND ") + key + Q(f" >= {p}", start)
        if after is not None:
            where += (Q(" AND (") + key
                      + Q(f", s.name, s.customer_id) > ({p}, {p}, {p})", start, after[1], after[2]))
        rows = _run(base + where + Q(" ORDER BY ") + key + Q(", s.name, s.customer_id"), limit)
    if len(rows) < limit:
        empty = Q(" AND ") + (value or Q("NULL")) + Q(" IS NULL")
        if after is not None and after[0] is None:
            empty += Q(f" AND (s.name, s.customer_id) > ({p}, {p})", after[1], after[2])
        rows += _run(base + empty + Q(" ORDER BY s.name, s.customer_id"), limit - len(rows))
    return rows


def _row(raw: tuple, order: Order) -> dict:
    values = dict(zip(SORTABLE, raw[3:], strict=True))
    if order.column == "name":
        position = [raw[1], raw[0]]
    else:
        position = [values[order.column], raw[1], raw[0]]
    for column in TIMES:
        values[column] = None if values[column] is None else from_micros(values[column])
    return {"customer_id": raw[0], "name": raw[1], "link_group": raw[2], **values,
            "position": position}


def page(view: View, order: Order, after: list | None, limit: int) -> tuple[list[dict], bool]:
    """One page after `after` (a row's position, as the viewer saw it), and whether more follow."""
    base = _select(view) + _source(view) + _hide(view, order)
    fetch = _by_name if order.column == "name" else _by_figure
    rows = fetch(view, order, base, after, limit + 1)
    return [_row(r, order) for r in rows[:limit]], len(rows) > limit
