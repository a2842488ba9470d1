"""The one read a decision needs: the user, the account and the link between them."""

from authz_service.store import facts_cache
from authz_service.store.models import Account, Link, User, ViewSession, database, from_micros


def read(email: str, account_id: str | None) -> tuple[tuple | None, str]:
    """((home account, home group, account kind, account's partner, link group, home kind, link's
    end), source).

    Every column may be None: unknown user, unknown account, no link, a link without an end. The
    link's end (R10.1) is part of the row, so a kept row carries it and the caller judges it at
    each use (links.is_live): a cached fact never outlives the link's end. The source is
    "hit" when a worker of `authz serve` on PostgreSQL answered from its cache (kept
    coherent, R4.6: store/facts_cache.py), "miss" when it asked the database and may keep
    the answer, "off" when nothing is cached (SQLite, commands, tests, a lapsed lease).
    """
    # Its own kind of key (store/keys.py keeps ("api_key", digest)); values longer than any
    # stored row's are not kept: they would only fill memory.
    short = len(email) <= User.email.max_length and len(account_id or "") <= Account.id.max_length
    return facts_cache.read_through(("facts", email, account_id), lambda: _query(email, account_id),
                                    lambda row: short)


def _sql(p: str) -> str:
    """The one query's text for a database's parameter mark."""
    return (
        f'SELECT u.account_id, u.grp, a.kind, a.partner_id, l.grp, h.kind, l.expires_at '
        f'FROM (SELECT 1 AS one) AS x '
        f'LEFT JOIN "{User._meta.table_name}" AS u ON u.email = {p} '
        f'LEFT JOIN "{Account._meta.table_name}" AS h ON h.id = u.account_id '
        f'LEFT JOIN "{Account._meta.table_name}" AS a ON a.id = {p} '
        f'LEFT JOIN "{Link._meta.table_name}" AS l ON l.user_email = u.email AND l.customer_id = a.id'
    )


_SQL: dict[str, str] = {}  # by parameter mark: built once, not at every decision


def _query(email: str, account_id: str | None) -> tuple | None:
    """The one query: user, home account, account and link."""
    db = database.obj  # the proxy's own attribute lookups cost more than the query's Python side
    sql = _SQL.get(db.param) or _SQL.setdefault(db.param, _sql(db.param))
    row = db.execute_sql(sql, (email, account_id)).fetchone()
    return None if row is None else (*row[:6], None if row[6] is None else from_micros(row[6]))


def read_session(session_id: str) -> dict | None:
    """A view session, or None."""
    row = ViewSession.get_or_none(ViewSession.id == session_id)
    if row is None:
        return None
    return {"session_id": row.id, "user": row.user_email, "customer_id": row.customer_id,
            "expires_at": row.expires_at}
