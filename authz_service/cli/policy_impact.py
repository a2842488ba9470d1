"""`authz policy impact NEW [--since WHEN [--archive FILE...]]`: the grants a policy change gives
and takes against the database, and the recorded decisions it would have turned (R9.7;
docs/decisions/033-decision-facts-and-replay.md, 046-replaying-archives.md).
"""

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from authz_service import store
from authz_service.cli.base import current_settings, load_policy
from authz_service.cli.policy_analysis import materialize, path_option
from authz_service.decide import impact as impacting
from authz_service.decide import replay as replaying


def parse_since(text: str | None, now: datetime) -> datetime | None:
    """`30d`, `12h` (back from now) or an ISO date or time (UTC); None for none. A clear error otherwise."""
    if text is None:
        return None
    found = re.fullmatch(r"(\d{1,6})([dh])", text.strip())
    if found:
        amount = int(found[1])
        try:
            return now - (timedelta(days=amount) if found[2] == "d" else timedelta(hours=amount))
        except OverflowError:
            raise click.BadParameter(f"{text!r} reaches before the year 1") from None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (30d, 12h) nor an ISO date") from None
    try:
        return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    except OverflowError:
        raise click.BadParameter(f"{text!r} is out of range in UTC") from None


@click.command("impact")
@click.argument("new_spec", metavar="NEW")
@click.option("--since", default=None, metavar="30d|12h|DATE",
              help="also replay every decision recorded since then under NEW (R9.7)")
@click.option("--archive", "archives", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="with --since: archive files (JSON lines) from `authz log archive`, oldest first, from "
                   "entry 1; checked against the chain first, then replayed too")
@click.option("--old", "old_spec", default=None,
              help="the policy in force, a folder or git revision (default AUTHZ_POLICY_DIR or policies/)")
@path_option
@click.option("--json", "as_json", is_flag=True, help="every triple gained and lost, and the counts, as JSON")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0),
              help="triples listed in the text form (--json lists all)")
def impact(new_spec, old_spec, policy_path, as_json, limit, since, archives):
    """The (user, account, action) grants policy NEW would give and take, against the database in
    AUTHZ_DATABASE_URL: counted per partner and listed (R9.7). Decided without a view session.
    With --since, the decisions recorded since then re-decided under NEW from their recorded
    facts: how many would have gone the other way, by action, with sample decision ids; with
    --archive, the archived ones too, once the files are checked against the chain."""
    from authz_service.log import audit  # here, as in cli/log.py: the log's modules import metrics

    settings = current_settings()
    if archives and since is None:
        raise click.BadParameter("--archive replays archived decisions: give --since too", param_hint="--archive")
    start = parse_since(since, datetime.now(UTC).replace(tzinfo=None))
    with tempfile.TemporaryDirectory(prefix="authz-impact-") as tmp:
        old = load_policy(materialize(old_spec or settings.policy_dir, policy_path, Path(tmp)))
        new = load_policy(materialize(new_spec, policy_path, Path(tmp)))
    store.connect(settings.database_url)  # read only: no migration of the live database
    with store.connection():
        result = impacting.impact(old, new)
        # R7.4, decision 046: only entries that verify are replayed, each file read once
        files = [Path(a) for a in archives]
        archived = audit.checked_archives(files) if files else ()
        try:
            replayed = replaying.replay(new, start, archived) if since is not None else None
        except audit.ArchivesDoNotVerify as exc:
            verdict = exc.verdict
            where = f"entry {verdict.bad_seq}: " if verdict.bad_seq else ""
            raise click.ClickException(f"the archives do not verify ({where}{verdict.problem}); nothing replayed") from None
    if as_json:
        click.echo(json.dumps({**result.as_dict(), **({"replay": replayed.as_dict()} if replayed else {})},
                              indent=1))
        return
    _print_impact(result, limit)
    if replayed is not None:
        _print_replay(replayed)


def _print_replay(result: replaying.Replay) -> None:
    when = result.since.isoformat(timespec="seconds") if result.since else "the start"
    archived = f" ({result.archived} from archives)" if result.archived else ""
    click.echo(f"replay since {when} under {result.new_version}: {result.replayed} decision(s) replayed{archived}, "
               f"{result.flipped} would go the other way, {result.not_replayable} not replayable "
               f"(no recorded facts)")
    for action, counts in sorted(result.flips.items()):
        click.echo(f"  {action}: {counts['to_allow']} deny -> allow, {counts['to_deny']} allow -> deny")
        for direction, ids in counts["samples"].items():
            if ids:
                click.echo(f"    e.g. {direction.replace('_', ' ')}: {' '.join(ids)}")


def _print_impact(result: impacting.Impact, limit: int) -> None:
    click.echo(f"{result.old_version} -> {result.new_version}: {len(result.gained)} grant(s) gained, "
               f"{len(result.lost)} lost")
    for partner, counts in result.per_partner().items():
        click.echo(f"  partner {partner}: +{counts['gained']} -{counts['lost']}")
    for sign, triples in (("+", result.gained), ("-", result.lost)):
        for user, account, action, _ in triples[:limit]:
            click.echo(f"{sign} {user} {account} {action}")
        if len(triples) > limit:
            click.echo(f"{sign} ... and {len(triples) - limit} more (--json lists all)")
