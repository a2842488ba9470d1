"""The console's "Log integrity" page (R7.6; docs/decisions/034-log-export-and-stream.md): the
newest signed checkpoint (size, root, when, key), where checkpoints are kept and pushed, and the
last background verifications (the chain, and the log against every checkpoint), which the log
writer process runs on its timer, never a request."""

import base64
import os
from datetime import UTC, datetime

from flask import render_template

from authz_service.api import console_auth as auth
from authz_service.api.base import state
from authz_service.api.console import bp
from authz_service.log import check, checkpoint_audit, checkpoints
from authz_service.log.signing import NoteError, Verifier


def _newest(settings) -> dict | None:
    """The newest kept checkpoint as the page shows it; None when none is kept yet."""
    found = checkpoints.newest(settings)
    if found is None:
        return None
    key = checkpoints.signer(settings)
    name = os.path.basename(checkpoints.kept(checkpoints.witness_dir(settings))[-1])
    try:
        signed = checkpoints.parse(found[1], Verifier(key.verifier()))
    except NoteError as exc:
        return {"file": name, "problem": str(exc)}
    stamp = int(name.removesuffix(checkpoints.SUFFIX).split("-", 1)[1])
    return {"file": name, "size": signed.size, "root": base64.b64encode(signed.root).decode(),
            "root_hex": signed.root.hex(), "signed_at": datetime.fromtimestamp(stamp / 1e9, UTC),
            "key_id": f"{key.name}+{key.hash.hex()}", "problem": None}


@bp.get("/log", endpoint="log_integrity")
@auth.signed_in
def log_integrity():
    """The newest checkpoint and the last background verifications."""
    settings = state().settings
    try:
        newest, problem = _newest(settings), None
    except (OSError, NoteError, ValueError) as exc:  # the key or the folder cannot be read: said, not raised
        newest, problem = None, f"the checkpoints cannot be read: {exc}"
    return render_template("console/log.html", newest=newest, problem=problem,
                           witness=checkpoints.witness_dir(settings), push=settings.log_witness_push,
                           audit=checkpoint_audit.last_result(settings), chain=check.last_result(settings),
                           every=settings.log_verify_seconds)
