"""The console's "Preview a policy change" (R9.7; docs/decisions/033-decision-facts-and-replay.md).

A reviewer uploads the policy files a change touches; they replace the same-named files of the
policy in force (a file not uploaded stays as it is), and the candidate is checked exactly as a
reload checks it (syntax, vocabulary, coverage by the decision tables in force, invariants:
R9.2, R9.5, R9.6). The page shows the compare verdict and changed cells, the lint, the live
grants gained and lost, and the recorded decisions that would have gone the other way. Nothing
is written: the files live in this request's memory only, no path on the server is read, and
nothing is recorded (R7.5: a preview is not anyone's activity). Any signed-in (audit) key may
preview, as every console read: it shows what the audit scope already reads.
"""

import logging
import re
from datetime import timedelta

from flask import render_template, request

from authz_service.api import console_auth as auth
from authz_service.api.base import state
from authz_service.api.console import bp
from authz_service.decide import impact as impacting
from authz_service.decide import replay as replaying
from authz_service.log import chain
from authz_service.policy import Policy, PolicyError, compare, lint, snapshot
from authz_service.store.models import utcnow

log = logging.getLogger("authz.console")
# A top-level rule file, as the policy's version counts them (policy/snapshot.py RULE_PATTERNS).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.(csv|toml|conf)")
MAX_FILES = 20
SINCE = {"": None, "1d": 1, "7d": 7, "30d": 30, "90d": 90}  # days back the replay reads
LISTED = 100  # triples listed per direction (the counts are complete)


class Refused(Exception):
    """An upload that cannot be a candidate policy: said on the page, nothing read further."""


def _uploads() -> dict[str, bytes]:
    """{file name: bytes} of the uploaded files, each a top-level rule file, UTF-8, within limits."""
    found: dict[str, bytes] = {}
    for upload in request.files.getlist("files"):
        name = upload.filename or ""
        if not name:
            continue
        if not NAME.fullmatch(name):
            raise Refused(f"{name[:80]!r} is not a policy file name (a .csv, .toml or .conf file at the "
                          "top of the policy folder; decision tables are not uploaded here)")
        if name in found:
            raise Refused(f"{name} was uploaded twice")
        data = upload.read(snapshot.MAX_TOTAL + 1)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(f"{name} is not UTF-8 text") from None
        found[name] = data
    if not found:
        raise Refused("choose at least one policy file to upload")
    if len(found) > MAX_FILES or sum(len(d) for d in found.values()) > snapshot.MAX_TOTAL:
        raise Refused(f"at most {MAX_FILES} files and {snapshot.MAX_TOTAL >> 20} MiB in all")
    return found


def candidate(in_force: Policy, files: dict[str, bytes]) -> Policy:
    """The policy in force with these files in place of its own, checked as a reload checks it."""
    snap = in_force.snapshot
    return Policy(snapshot.Snapshot(snap.root, {**snap.files, **files}, ()))


def _analysis(in_force: Policy, new: Policy, days: int | None) -> dict:
    """What the page shows of a candidate that loads."""
    compared = compare.compare(in_force, new)
    moved = impacting.impact(in_force, new)
    replayed = None
    if days is not None:
        chain.sync()  # every decision recorded so far, those still in the host's spool too
        replayed = replaying.replay(new, utcnow() - timedelta(days=days))
    return {"compared": compared, "findings": lint.lint(new), "impact": moved, "replay": replayed,
            "listed": LISTED}


@bp.route("/preview", methods=["GET", "POST"], endpoint="preview")
@auth.signed_in
def preview():
    """The form; on POST, the uploaded change analysed against the policy in force."""
    in_force = state().policy
    since = request.form.get("since", "30d") if request.method == "POST" else "30d"
    since = since if since in SINCE else "30d"
    shown: dict = {"in_force": in_force.version, "since": since, "choices": list(SINCE)}
    if request.method == "GET":
        return render_template("console/preview.html", **shown)
    auth.check_csrf()
    try:
        files = _uploads()
        shown["files"] = sorted(files)
        new = candidate(in_force, files)
    except Refused as exc:
        return render_template("console/preview.html", **shown, error=str(exc)), 422
    except PolicyError as exc:  # refused as a reload would refuse it (R9.6)
        return render_template("console/preview.html", **shown, problems=exc.problems), 422
    except Exception:  # a file the checks did not foresee: refused, never a 500 (fail closed)
        log.exception("a previewed policy could not be loaded")
        return render_template("console/preview.html", **shown,
                               error="the candidate policy could not be loaded"), 422
    return render_template("console/preview.html", **shown, new=new.version,
                           **_analysis(in_force, new, SINCE[since]))
