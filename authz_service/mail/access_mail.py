"""A request for access (R10.2) to a partner's admin contacts: outbox rows, as service events are
(R8.3: queued in the request's own transaction, one per contact, never twice)."""

import html
import re

from authz_service.store import contacts, outbox
from authz_service.store.models import utcnow

EVENT = "access_request"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

TEXT = """Hello {name},

{requester} asks for access to your customer {customer}.

  Group:     {group}
  Duration:  {hours} hours
  Reason:    {reason}
  Request:   {request_id}

A partner admin approves or denies it; it waits at most 7 days.
You receive this mail as an admin contact of {partner}.
"""

HTML = """<!doctype html>
<html><body>
<p>Hello {name},</p>
<p>{requester} asks for access to your customer <strong>{customer}</strong>.</p>
<table>
<tr><th align="left">Group</th><td>{group}</td></tr>
<tr><th align="left">Duration</th><td>{hours} hours</td></tr>
<tr><th align="left">Reason</th><td>{reason}</td></tr>
<tr><th align="left">Request</th><td>{request_id}</td></tr>
</table>
<p>A partner admin approves or denies it; it waits at most 7 days.</p>
<p>You receive this mail as an admin contact of {partner}.</p>
</body></html>
"""


def _one_line(value) -> str:
    return _CONTROL.sub(" ", str(value)).strip()


def enqueue_request(request: dict, partner_name: str, customer_name: str) -> int:
    """One mail per admin contact of the partner; call inside the request's transaction."""
    if not outbox.in_transaction():
        raise RuntimeError("enqueue_request must run inside the request's transaction")
    now = utcnow()
    values = {"requester": request["requester"], "customer": f"{customer_name} ({request['customer_id']})",
              "group": request["group"], "hours": request["duration_hours"], "reason": request["reason"][:500],
              "request_id": request["request_id"], "partner": partner_name}
    values = {k: _one_line(v) for k, v in values.items()}
    subject = _one_line(f"Access requested: {values['requester']} for {values['customer']}")[:250]
    rows = []
    for contact in contacts.of_type(request["partner_id"], "admin"):
        name = _one_line(contact["name"])
        rows.append({
            "event_id": f"{EVENT}:{request['request_id']}", "event": EVENT, "partner": request["partner_id"],
            "customer_id": request["customer_id"], "service_id": request["request_id"],
            "email": contact["email"], "subject": subject,
            "body_text": TEXT.format(name=name, **values),
            "body_html": HTML.format(name=html.escape(name), **{k: html.escape(v) for k, v in values.items()}),
            "created_at": now, "next_attempt_at": now})
    return outbox.insert(rows)
