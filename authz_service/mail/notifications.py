"""Service events to a partner's admin contacts (R8.1): outbox rows, and the mails they become."""

import hashlib
import html
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from authz_service.store import contacts, directory, outbox
from authz_service.store.models import utcnow

FIELDS = ("event_id", "event", "partner_id", "customer_id", "customer_name", "service_id",
          "service_kind", "monthly_price_cents", "actor", "on_behalf_of_partner", "at")
EVENTS = ("provisioned", "deleted")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

TEXT = """Hello {name},

A service was {event} for your customer {customer_name}.

{facts}

You receive this mail as an admin contact of {partner_name}.
"""

HTML = """<!doctype html>
<html><body>
<p>Hello {name},</p>
<p>A service was {event} for your customer <strong>{customer_name}</strong>.</p>
<table>
{facts}
</table>
<p>You receive this mail as an admin contact of {partner_name}.</p>
</body></html>
"""


def enqueue_service_event(event: dict) -> int:
    """Queue one mail per admin contact of the partner; call inside the service change's transaction."""
    missing = [name for name in FIELDS if name not in event]
    if missing or event["event"] not in EVENTS or not isinstance(event["at"], datetime):
        raise ValueError(f"not a service event: missing {missing} or bad event/at")
    if not outbox.in_transaction():
        raise RuntimeError("enqueue_service_event must run inside the service change's transaction")
    partner = directory.get_account(event["partner_id"])
    partner_name = partner["name"] if partner else event["partner_id"]
    now = utcnow()
    rows = [_row(event, contact, partner_name, now)
            for contact in contacts.of_type(event["partner_id"], "admin")]
    return outbox.insert(rows)


def _row(event: dict, contact: dict, partner_name: str, now: datetime) -> dict:
    return {"event_id": event["event_id"], "event": event["event"], "partner": event["partner_id"],
            "customer_id": event["customer_id"], "service_id": event["service_id"],
            "email": contact["email"], "subject": subject(event),
            "body_text": render(event, contact["name"], partner_name, is_html=False),
            "body_html": render(event, contact["name"], partner_name, is_html=True),
            "created_at": now, "next_attempt_at": now}


def _one_line(value) -> str:
    return _CONTROL.sub(" ", str(value)).strip()


def subject(event: dict) -> str:
    """A clear one-line subject: what happened to which service of which customer."""
    text = (f"Service {event['event']}: {event['service_kind']} {event['service_id']} "
            f"for {event['customer_name']}")
    return _one_line(text)[:250]


def facts(event: dict) -> list[tuple[str, str]]:
    """The labelled facts of one event: customer, service, price, who, on whose behalf, when."""
    cents = int(event["monthly_price_cents"])
    rows = [("Customer", f"{event['customer_name']} ({event['customer_id']})"),
            ("Service", f"{event['service_id']} ({event['service_kind']})"),
            ("Monthly price", f"{cents // 100}.{cents % 100:02d}"),
            ("By", event["actor"])]
    if event["on_behalf_of_partner"]:
        rows.append(("On behalf of", f"{event['customer_name']}, by a user of partner "
                                     f"{event['on_behalf_of_partner']}"))
    rows.append(("When", event["at"].strftime("%Y-%m-%d %H:%M:%S UTC")))
    return [(label, _one_line(value)) for label, value in rows]


def render(event: dict, name: str, partner_name: str, is_html: bool) -> str:
    """The body for one contact, plain text or HTML (every value escaped)."""
    values = {"name": name, "event": event["event"], "customer_name": event["customer_name"],
              "partner_name": partner_name}
    values = {k: _one_line(v) for k, v in values.items()}
    if not is_html:
        lines = [f"  {label + ':':<15} {value}" for label, value in facts(event)]
        return TEXT.format(facts="\n".join(lines), **values)
    escaped = {k: html.escape(v) for k, v in values.items()}
    cells = [f"<tr><th align=\"left\">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
             for label, value in facts(event)]
    return HTML.format(facts="\n".join(cells), **escaped)


def message_id(event_id: str, email: str, mail_from: str) -> str:
    """The same Message-ID for every attempt at one event and contact (R8.3: never a second mail)."""
    digest = hashlib.sha256(f"{event_id}\0{email}".encode()).hexdigest()[:40]
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "authz.invalid"
    return f"<{digest}@{domain}>"


def build_message(row: dict, mail_from: str) -> EmailMessage:
    """The mail for one outbox row; ValueError when a header cannot be written."""
    message = EmailMessage()
    message["Subject"] = row["subject"]
    message["From"] = mail_from
    message["To"] = row["email"]  # as stored: a bad one fails at RCPT or in smtplib, recorded
    message["Date"] = format_datetime(row["created_at"].replace(tzinfo=UTC))
    message["Message-ID"] = message_id(row["event_id"], row["email"], mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body_text"])
    message.add_alternative(row["body_html"], subtype="html")
    return message
