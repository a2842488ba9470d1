"""Requests for access (R10.2): a partner user asks for a link to one of their partner's
customers; the partner's admins approve (possibly with a lesser group or a shorter time, which
makes an expiring link, R10.1) or deny; the requester may cancel; after 7 days it expires.

Who may ask and who may decide are the policy's (grant.request, grant.manage on the partner's
account, policies/partner.csv): every step is one recorded decision in the partner's log (R7.2)
and no group is compared here (R9.1). docs/decisions/035-time-bound-access.md."""

from authz_service import cursors
from authz_service.decide import authorize
from authz_service.mail import access_mail
from authz_service.policy import Facts, Policy
from authz_service.portal import link_ends
from authz_service.store import Conflict, NotFound, directory, links, request_rows
from authz_service.store.models import database, utcnow

MAX_HOURS = 30 * 24  # R10.2: at most 30 days


class InvalidRequest(Exception):
    """A well-formed request the rules refuse (422): a greater group, a longer time."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _customer(customer_id: str) -> dict:
    found = directory.get_account(customer_id)
    if found is None or found["kind"] != "customer":
        raise NotFound("customer", customer_id)
    return found


def _resource(request_id: str) -> dict:
    return {"type": "access_request", "id": request_id}


def create(policy: Policy, actor: str, customer_id: str, group: str | None, reason: str, hours: int,
           caller=None) -> dict:
    """A new pending request, recorded as grant.request on the partner's account, and its mail to
    the partner's admin contacts in the same transaction (R8.3)."""
    customer = _customer(customer_id)
    group = group or policy.default_group("new_link_group")
    with authorize.change(policy, actor, "grant.request", customer["partner_id"],
                          {"type": "customer", "id": customer_id}, None, caller):
        user = directory.get_user(actor)  # allowed at home in the partner's account: they exist
        if user is None or user["account_id"] != customer["partner_id"]:
            raise NotFound("user", actor)
        partner = directory.get_account(customer["partner_id"]) or {"name": customer["partner_id"]}
        with database.atomic():
            row = request_rows.create(customer["partner_id"], customer_id, user["email"], group, reason, hours, utcnow())
            made = request_rows.as_dict(row, utcnow())
            access_mail.enqueue_request(made, partner["name"], customer["name"])
    return made


def _reader(policy: Policy, actor: str, partner_id: str, caller) -> str | None:
    """The partner's admins read every request (grant.manage); a user who may ask reads their own."""
    try:
        authorize.require(policy, actor, "grant.manage", partner_id, {"type": "access_request", "id": partner_id},
                          None, caller)
        return None
    except authorize.Denied:
        authorize.require(policy, actor, "grant.request", partner_id,
                          {"type": "access_request", "id": partner_id}, None, caller)
        return actor.lower()


def list_for(policy: Policy, actor: str, partner_id: str, status: str | None, limit: int, cursor, caller=None):
    """GET /v1/partners/{id}/access-requests, by request id."""
    partner = directory.get_account(partner_id)
    if partner is None or partner["kind"] != "partner":
        raise NotFound("partner", partner_id)
    key = f"access-requests:{partner_id}:{status}"
    cursors.decode(key, cursor)  # a forged cursor is refused before deciding
    only = _reader(policy, actor, partner_id, caller)
    return cursors.page(key, cursor, lambda after: request_rows.page(partner_id, status, only, after, limit, utcnow()),
                        lambda item: item["request_id"])


def _allowed(policy: Policy, home_group: str, link_group: str) -> set[str]:
    """What a link with this group lets this user do on a customer, as the policy says."""
    facts = Facts("customer", "owner", home_group, link_group, "none")
    return {a for a in policy.vocab.actions if policy.decide(facts, a).allowed}


def _granted(policy: Policy, row, group: str | None, hours: int | None) -> tuple[str, int]:
    """R10.2: an approval may give a lesser group (one allowing nothing the asked one does not)
    or a shorter time, never more."""
    group, hours = group or row.group, hours or row.duration_hours
    user = directory.get_user(row.requester)
    if user is None:
        raise Conflict("requester_gone", "the requester no longer exists", request_id=row.id)
    if not _allowed(policy, user["group"], group) <= _allowed(policy, user["group"], row.group):
        raise InvalidRequest("greater_group", f"{group} allows more than the {row.group} asked for")
    if hours > row.duration_hours:
        raise InvalidRequest("longer_duration", f"{hours} hours is longer than the {row.duration_hours} asked for")
    if user["account_id"] != row.partner or not policy.is_linkable(user["group"]):
        raise Conflict("not_linkable", f"{row.requester} can no longer be linked (R4.4)", request_id=row.id)
    return group, hours


def _until(ends) -> str:
    return "no end" if ends is None else ends.isoformat(timespec="seconds") + "Z"


def _settler(policy: Policy, row, group: str):
    """Decision 042: an approval never takes away what the requester holds. Over a link that
    already allows all the granted group does, as long or longer, the link is kept as it is
    (False); a link the grant only widens or lengthens is replaced (True); any other (a
    narrower or an incomparable group, an earlier end) is refused: 409 `link_exists`."""
    home = (directory.get_user(row.requester) or {}).get("group", "")

    def settle(existing: dict, ends) -> bool:
        old_end = existing["expires_at"]
        if not links.is_live(old_end, utcnow()):
            return True  # an ended link is no link (R10.1): its end was recorded first
        has, gets = _allowed(policy, home, existing["group"]), _allowed(policy, home, group)
        if gets <= has and (old_end is None or old_end >= ends):
            return False
        if has <= gets and old_end is not None and old_end <= ends:
            return True
        raise Conflict("link_exists", f"{row.requester} already holds {existing['group']} on {row.customer_id} "
                       f"until {_until(old_end)}; approving {group} until {_until(ends)} would take part of it "
                       "away: change the link itself, or deny", request_id=row.id, group=existing["group"])
    return settle


def _end_ended(row) -> None:
    """R10.1: an ended link the approval would reuse has its end recorded first (as a PUT does)."""
    existing = links.get_link(row.requester, row.customer_id)
    if existing is not None and not links.is_live(existing["expires_at"], utcnow()):
        link_ends.end_one(row.requester, row.customer_id)


def approve(policy: Policy, actor: str, request_id: str, group: str | None, hours: int | None, caller=None):
    """Approved and the expiring link made, in one transaction; 409 unless pending, or when it
    would take away part of a link the requester holds (decision 042)."""
    row = request_rows.get(request_id)
    with authorize.change(policy, actor, "grant.manage", row.partner, _resource(request_id), None, caller):
        request_rows.require_pending(row, utcnow())
        group, hours = _granted(policy, row, group, hours)
        _end_ended(row)
        return request_rows.approve(request_id, actor.lower(), group, hours, utcnow(), _settler(policy, row, group))


def deny(policy: Policy, actor: str, request_id: str, reason: str, caller=None) -> dict:
    row = request_rows.get(request_id)
    with authorize.change(policy, actor, "grant.manage", row.partner, _resource(request_id), None, caller):
        return request_rows.deny(request_id, actor.lower(), reason, utcnow())


def cancel(policy: Policy, actor: str, request_id: str, caller=None) -> dict:
    """The requester withdraws their request (another user: 404, as if there were none)."""
    row = request_rows.get(request_id)
    if row.requester != actor.lower():
        raise NotFound("access request", request_id)
    with authorize.change(policy, actor, "grant.request", row.partner, _resource(request_id), None, caller):
        return request_rows.cancel(request_id, actor.lower(), utcnow())


def pending_of(partner_id: str, limit: int = 200) -> list[dict]:
    """The partner's pending requests, for the console's queue (read by its key, not recorded)."""
    return request_rows.page(partner_id, "pending", None, None, limit, utcnow())[0]


def decide_by_key(policy: Policy, operator: str, request_id: str, approve_it: bool, reason: str, caller: str):
    """Approve (as asked) or deny on a console key's `manage` scope; recorded as the key once done
    (R7.5), in the request's partner's log (R7.2)."""
    row = request_rows.get(request_id)
    request_rows.require_pending(row, utcnow())
    if approve_it:
        group, hours = _granted(policy, row, None, None)
        _end_ended(row)
        done = request_rows.approve(request_id, operator, group, hours, utcnow(), _settler(policy, row, group))
    else:
        done = request_rows.deny(request_id, operator, reason, utcnow())
    authorize.record_operator(operator, "manage", "grant.manage", row.partner, _resource(request_id), caller,
                              f"{done['status']} by {operator}")
    return done
