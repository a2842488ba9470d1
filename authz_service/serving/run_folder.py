"""The private temp folder of one `authz serve` run (docs/decisions/018-files-backup-keys.md)."""

import contextlib
import os
import shutil
import tempfile

RUN_PREFIX = "authz-run-"


@contextlib.contextmanager
def run_folder():
    """One private temp folder for this server's run (the log writer's socket, the shared metric
    files), removed when the server stops; folders left by a killed server are removed at start."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        if name.startswith(RUN_PREFIX):
            _remove_if_orphaned(os.path.join(root, name))
    folder, owner = tempfile.mkdtemp(prefix=RUN_PREFIX), os.getpid()  # 0700
    with open(os.path.join(folder, "pid"), "w", encoding="ascii") as out:
        out.write(str(owner))
    try:
        yield folder
    finally:
        if os.getpid() == owner:  # not in a worker leaving (gunicorn's workers exit through here)
            shutil.rmtree(folder, ignore_errors=True)


def _remove_if_orphaned(folder: str) -> None:
    """Remove a run folder of ours whose server is gone (killed: no clean stop removed it)."""
    try:
        if os.stat(folder).st_uid != os.geteuid():
            return
        with open(os.path.join(folder, "pid"), encoding="ascii") as src:
            pid = int(src.read())
        os.kill(pid, 0)  # still running: keep it
    except ProcessLookupError:
        shutil.rmtree(folder, ignore_errors=True)
    except (OSError, ValueError):
        pass  # not ours, not readable, or the pid file is being written: leave it
