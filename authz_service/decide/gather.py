"""What the policy needs to know about (user, account, session), gathered from the store.

Python only looks things up and compares ids here; which group applies and what
it may do is the policy's business (R9.1).
"""

from dataclasses import dataclass
from datetime import datetime

from authz_service import metrics
from authz_service.policy import NONE, Facts
from authz_service.store import facts as store_facts
from authz_service.store import links
from authz_service.store.models import utcnow


@dataclass(frozen=True)
class Gathered:
    """The facts, plus the context a log entry needs (R7.1)."""

    facts: Facts
    account_id: str | None
    home_account: str | None
    owner_partner: str | None  # the partner owning the account, for a customer
    home_kind: str | None  # partner | customer, None for an unknown user

    @property
    def acting_partner(self) -> str | None:
        """The user's partner when a partner user decides about a customer account (R7.1)."""
        if self.home_kind == "partner" and self.facts.kind == "customer":
            return self.home_account
        return None


def gather(email: str, account_id: str | None, session: dict | None = None,
           session_given: bool = False, now: datetime | None = None) -> Gathered:
    """Read user, account and link in one query and describe their relation."""
    email = email.lower()
    row, source = store_facts.read(email, account_id)
    metrics.FACTS_READ[source].inc()
    row = row or (None,) * 7
    home, home_group, kind, partner, link_group, home_kind, link_ends = row
    now = now or utcnow()
    if not links.is_live(link_ends, now):
        link_group = None  # R10.1: a link past its end is no link, cached or not
    relation = relation_of(home, account_id, partner)
    facts = Facts(
        kind=kind or NONE,
        relation=relation,
        home_group=home_group or NONE,
        link_group=(link_group or NONE) if relation == "owner" else NONE,
        session=_session_state(email, account_id, session, session_given, now),
    )
    return Gathered(facts, account_id, home, partner, home_kind)


def relation_of(home: str | None, account_id: str | None, partner: str | None) -> str:
    """home: the user's home account; owner: a customer of the user's partner; none: anything else."""
    if home is None:
        return "none"
    if home == account_id:
        return "home"
    if partner is not None and partner == home:
        return "owner"
    return "none"


def _session_state(email, account_id, session, session_given, now) -> str:
    """none: no session named; bound: a live session of this user bound to this account."""
    if not session_given:
        return "none"
    if (session is not None and session["user"] == email and session["customer_id"] is not None
            and session["customer_id"] == account_id and session["expires_at"] > now):
        return "bound"
    return "elsewhere"


def load_session(session_id: str | None) -> dict | None:
    """The named view session, or None."""
    return store_facts.read_session(session_id) if session_id else None
