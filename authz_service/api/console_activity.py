"""The console's Activity page and its exports: search by account, user, action, outcome, free
text and dates; a chart of allowed and denied per hour or day; the most denied actions and users;
CSV and NDJSON of the filtered view (R7.3; decision 036).

The console key signs in with the `audit` scope, the one GET /v1/decisions asks, and the form is
turned into that endpoint's query and loaded by its own schema: the page, the chart, the ranking
and the exports read exactly what the API would answer for the same filter.
"""

import re
import urllib.parse
from datetime import date, timedelta

import marshmallow as ma
from flask import Response, flash, render_template, request, stream_with_context

from authz_service import cursors
from authz_service.api import console_auth as auth
from authz_service.api import console_chart, console_export
from authz_service.api.base import state
from authz_service.api.console import _explain, bp
from authz_service.api.log_schemas import DecisionsQuery
from authz_service.log import activity_stats, audit, check
from authz_service.store import directory

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not ISO 8601's 20270101 or 2027-W01-1 (decision 037)
FORM = ("account", "user", "action", "allowed", "q", "from", "to", "unit")


def _form() -> dict[str, str]:
    """The form's fields as sent, trimmed (absent ones empty)."""
    return {name: request.args.get(name, "").strip() for name in FORM}


def _day(text: str, name: str, after: int = 0) -> str:
    """A YYYY-MM-DD field as the API's RFC 3339 bound (`to` includes its whole day)."""
    try:
        if not DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text) + timedelta(days=after)
    except (ValueError, OverflowError):  # 9999-12-31 has no next day
        raise ma.ValidationError({name: [f"{text[:40]!r} is not a date (YYYY-MM-DD) in range"]}) from None
    return f"{day}T00:00:00Z"


def api_query(form: dict[str, str]) -> dict[str, str]:
    """The GET /v1/decisions query (strings) this form asks for."""
    query = {k: form[k] for k in ("account", "user", "action", "allowed", "q") if form[k]}
    if form["from"]:
        query["since"] = _day(form["from"], "from")
    if form["to"]:
        query["until"] = _day(form["to"], "to", after=1)
    return query


def _filters(form: dict[str, str]) -> tuple[dict | None, str]:
    """(the API schema's loaded filter, the API query string), or (None, why) when it refuses."""
    try:
        query = api_query(form)
        return DecisionsQuery().load(query), urllib.parse.urlencode(query)
    except ma.ValidationError as exc:
        problems = exc.messages if isinstance(exc.messages, dict) else {"filter": exc.messages}
        said = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in problems.items())
        return None, f"Refused: {said}"


@bp.get("/activity", endpoint="activity")
@auth.signed_in
def activity():
    """Entries newest first, the chart and the ranking of the filter, the log writer's last
    verification (run in the background, never in a request)."""
    form = _form()
    filters, query = _filters(form)
    items: list[dict] = []
    next_cursor, chart, ranking = None, None, None
    if filters is None:
        flash(query, "error")
    else:
        try:
            items, next_cursor = audit.decisions_page(filters, 50, request.args.get("cursor") or None)
        except cursors.InvalidCursor as exc:
            flash(_explain(exc), "error")
        unit = activity_stats.unit_for(filters, form["unit"])
        totals = activity_stats.tally(filters)
        chart = console_chart.draw(activity_stats.chart(totals, unit))
        ranking = activity_stats.most_denied(totals)
    return render_template("console/activity.html", accounts=directory.list_accounts(), form=form,
                           items=items, next_cursor=next_cursor, chart=chart, ranking=ranking,
                           api_query=query if filters is not None else None,
                           api_query_form=urllib.parse.urlencode({k: v for k, v in form.items() if v}),
                           form_query=urllib.parse.urlencode({k: v for k, v in form.items() if v}),
                           verdict=check.last_result(state().settings),
                           every=state().settings.log_verify_seconds)


@bp.get("/activity.<kind>", endpoint="activity_export")
@auth.signed_in
def activity_export(kind: str):
    """Every entry of the filter (not only the page shown), as CSV or NDJSON, streamed."""
    if kind not in console_export.KINDS:
        return Response("Export as activity.csv or activity.ndjson.\n", 404, mimetype="text/plain")
    filters, query = _filters(_form())
    if filters is None:
        return Response(query + "\n", 422, mimetype="text/plain")
    body = console_export.lines(kind, lambda cursor: audit.decisions_page(filters, 500, cursor))
    response = Response(stream_with_context(body), mimetype=console_export.KINDS[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="activity.{kind}"'
    return response
