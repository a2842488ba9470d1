"""The Customers page (R5): the customers a viewer sees, their group, figures masked per field.

Python asks the policy, once per link group the viewer may hold, which group that
gives and which columns it shows (policies/fields.toml); the store turns the
answers into one query. No group name is compared here (R9.1).
"""

from datetime import timedelta

from authz_service import cursors
from authz_service.decide import authorize
from authz_service.decide.gather import gather
from authz_service.log import chain
from authz_service.policy import NONE, Facts, Policy
from authz_service.store import NotFound, customers_page, directory, summary
from authz_service.store.models import utcnow

VIEW = "customers_page"
SORTS = ("name", *summary.SORTABLE)
INACTIVE_AFTER = timedelta(days=30)  # R5.9


class Sight:
    """The policy's answers for one viewer on one partner's customers, per link group."""

    def __init__(self, policy: Policy, relation: str, home_group: str):
        self.policy, self.relation, self.home_group = policy, relation, home_group
        self.cache: dict[Facts, tuple] = {}

    def of(self, link: str) -> tuple[str | None, frozenset]:
        """(group held, visible columns) with this link group (NONE: no link), asked once."""
        facts = Facts("customer", self.relation, self.home_group,
                      link if self.relation == "owner" else NONE, "none")
        if facts not in self.cache:
            group = self.policy.decide(facts, "account.view").group
            self.cache[facts] = (group, self.policy.visible_fields(VIEW, facts))
        return self.cache[facts]

    def view(self, partner_id: str, email: str) -> customers_page.View | None:
        """Which rows the viewer sees and what each link group masks; None when nothing (R5.1)."""
        values = (*self.policy.vocab.groups, NONE) if self.relation == "owner" else (NONE,)
        seeing = tuple(v for v in values if self.of(v)[0] is not None)
        if not seeing:
            return None
        all_owned = NONE in seeing
        link_filter = all_owned and len(seeing) < len(values)
        varies = len({self.of(v) for v in seeing}) > 1
        hidden = {c: tuple(v for v in seeing if c not in self.of(v)[1]) for c in summary.SORTABLE}
        return customers_page.View(partner_id, email, all_owned, seeing, link_filter,
                          not all_owned or link_filter or varies, hidden, NONE)

    def present(self, row: dict) -> dict:
        """A page row: name, the viewer's group, and only the columns the policy shows (R5.8)."""
        group, visible = self.of(row["link_group"] or NONE)
        item = {"customer_id": row["customer_id"], "name": row["name"], "group": group}
        item.update({c: row[c] if c in visible else None for c in summary.SORTABLE})
        return item


def _partner(partner_id: str) -> dict:
    found = directory.get_account(partner_id)
    if found is None or found["kind"] != "partner":
        raise NotFound("partner", partner_id)
    return found


def _after(position, sort: str) -> list | None:
    """The last row's position from a cursor (signed, so only its shape is checked)."""
    size = 2 if sort.lstrip("-") == "name" else 3
    if position is not None and (not isinstance(position, list) or len(position) != size):
        raise cursors.InvalidCursor("the cursor is not one this service gave for this list")
    return position


def page(policy: Policy, user: str, partner_id: str, sort: str = "name",
         hide_inactive: bool = False, limit: int = 50, cursor: str | None = None,
         caller: str | None = None, preview: bool = False) -> tuple[list[dict], str | None]:
    """One page of the partner's Customers page for `user`; needs customer.list (R5, R7.2).

    preview: the console's "see as", decided but never recorded as `user` (R7.5)."""
    _partner(partner_id)
    if preview:
        authorize.preview(policy, user, "customer.list", partner_id)
    else:
        authorize.require(policy, user, "customer.list", partner_id, None, None, caller)
    kind = f"customers:{partner_id}:{user.lower()}:{sort}:{int(hide_inactive)}"
    after = _after(cursors.decode(kind, cursor), sort)
    viewer = gather(user, partner_id)
    relation = "owner" if viewer.home_account == partner_id else "none"  # as facts.gather says
    sight = Sight(policy, relation, viewer.facts.home_group)
    view = sight.view(partner_id, user.lower())
    if view is None:
        return [], None
    now = utcnow()
    chain.sync()  # R5.6: last activity moves with log entries still in the host's spool
    summary.catch_up(partner_id, now)
    order = customers_page.Order(sort.lstrip("-"), sort.startswith("-"), hide_inactive, now - INACTIVE_AFTER)
    rows, has_more = customers_page.page(view, order, after, limit)
    items = [sight.present(row) for row in rows]
    return items, cursors.encode(kind, rows[-1]["position"]) if has_more else None
