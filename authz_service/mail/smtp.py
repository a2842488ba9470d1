"""SMTP as AUTHZ_SMTP_URL names it: parsing the URL, opening a session, sorting its errors."""

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from email.errors import MessageError
from urllib.parse import parse_qs, unquote, urlparse

# Errors about one message or one recipient; any other SMTP or socket error is about the session.
PER_MESSAGE = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPNotSupportedError,
               ValueError, MessageError)
SESSION = (OSError, smtplib.SMTPException)


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to hand mail over."""

    host: str
    port: int
    is_ssl: bool
    is_starttls: bool
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://[user:password@]host[:port][?starttls=true] or smtps://...; ValueError otherwise."""
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ValueError(f"AUTHZ_SMTP_URL must be smtp://host:port or smtps://host:port, not {url!r}")
    is_ssl = parsed.scheme == "smtps"
    starttls = parse_qs(parsed.query).get("starttls", ["false"])[-1].lower() in ("1", "true", "yes")
    user = unquote(parsed.username) if parsed.username else None
    password = unquote(parsed.password) if parsed.password is not None else None
    return SmtpTarget(parsed.hostname, parsed.port or (465 if is_ssl else 25), is_ssl, starttls,
                      user, password)


def open_session(target: SmtpTarget, timeout: float) -> smtplib.SMTP:
    """A connected session: TLS from the start or by STARTTLS when asked, logged in when a user is given."""
    context = ssl.create_default_context()
    connection: smtplib.SMTP
    if target.is_ssl:
        connection = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(target.host, target.port, timeout=timeout)
    try:
        if target.is_starttls:
            connection.starttls(context=context)
        if target.user:
            connection.login(target.user, target.password or "")
    except BaseException:
        close(connection)
        raise
    return connection


def classify(exc: Exception) -> tuple[bool, str]:
    """(is_permanent, why) for a PER_MESSAGE error: 5xx and unsendable addresses are permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return code >= 500, f"recipient refused: {code} {reply.decode(errors='replace')}"
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500, f"message refused: {exc.smtp_code} {exc.smtp_error!r}"
    return True, f"the address or message cannot be sent: {exc}"


def reset(connection: smtplib.SMTP) -> None:
    """Clear a half-done mail transaction so the next message starts clean."""
    with contextlib.suppress(*SESSION):  # else the next message fails and is retried
        connection.rset()


def close(connection: smtplib.SMTP) -> None:
    """QUIT, or just drop the socket when the server is gone."""
    try:
        connection.quit()
    except SESSION:
        connection.close()
