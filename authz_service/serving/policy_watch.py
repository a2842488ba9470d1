"""Policy changes reach every worker and replica: each process watches policies/ and reloads.

A reload is all or nothing (R9.6): the new files are read once into memory, built,
and swapped in only when every check passes — parse, vocabulary, coverage, the
decision tables of policies/tests/ (run in a child process on the same bytes),
and no group removed that a user still holds. Otherwise the last good policy
stays in force and /readyz says why and since when. Watching costs one stat per
file per tick; files are read only when their stat changed.
"""

import logging
import threading
from datetime import UTC, datetime

from authz_service import policy, store
from authz_service.decide.checks import trial
from authz_service.policy import snapshot
from authz_service.store import directory

log = logging.getLogger("authz.policy")
SETTLE_SECONDS = 0.5  # a deploy writing several files one after another


class PolicyWatch:
    """Polls the policy files' stat; on a change, loads, checks and swaps in the new policy."""

    def __init__(self, state, interval: float, settle: float = SETTLE_SECONDS):
        self.state = state
        self.interval, self.settle = interval, settle
        self.error: str | None = None
        self.refused_at: str | None = None
        self._seen = state.policy.snapshot.stamp
        self._held_back: policy.Policy | None = None  # checked, but a removed group is still held
        self._stop = threading.Event()

    def check_once(self) -> bool:
        """Reload if the files changed; True when a new policy is now in force."""
        directory_path = self.state.settings.policy_dir
        try:
            seen = snapshot.stamp(directory_path)
            if seen == self._seen:
                return self._held_back is not None and self._try(self._held_back)
            self._seen, self._held_back = seen, None
            fresh = policy.load(directory_path, settle=self.settle)
            self._seen = fresh.snapshot.stamp
        except policy.PolicyError as exc:
            return self._refuse(str(exc))
        except OSError as exc:
            return self._refuse(f"cannot read the policy files: {exc}")
        if fresh.snapshot.digest == self.state.policy.snapshot.digest:
            return self._accept(fresh, quiet=True)
        failures = trial(fresh.snapshot)
        if failures:
            more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
            return self._refuse("its decision tables fail: " + "; ".join(failures[:3]) + more)
        return self._try(fresh)

    def _try(self, fresh: policy.Policy) -> bool:
        """Swap in a checked policy unless it removes a group someone holds (then retried each tick)."""
        removed = set(self.state.policy.vocab.groups) - set(fresh.vocab.groups)
        try:
            with store.connection():
                held = directory.group_holders(sorted(removed))
        except Exception as exc:  # any driver error: fail closed, keep the policy in force
            self._held_back = fresh
            return self._refuse(f"cannot check who holds the removed groups {sorted(removed)}: {exc}")
        if held:
            self._held_back = fresh
            names = ", ".join(f"{group!r} ({count} holder{'s' if count > 1 else ''})"
                              for group, count in sorted(held.items()))
            return self._refuse(f"it removes groups users still hold: {names}; "
                                "move those users and links to another group first")
        return self._accept(fresh)

    def _accept(self, fresh: policy.Policy, quiet: bool = False) -> bool:
        changed = fresh.version != self.state.policy.version
        self.state.policy = fresh  # one reference swap: a request sees the old or the new
        self.error, self.refused_at, self._held_back = None, None, None
        if changed or not quiet:
            log.warning("policy %s loaded", fresh.version)
        return changed

    def _refuse(self, why: str) -> bool:
        if why != self.error:
            log.error("policy reload refused, keeping %s: %s", self.state.policy.version, why)
            self.refused_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.error = why
        return False

    def start(self) -> "PolicyWatch":
        """Poll in a daemon thread every `interval` seconds (0: never)."""
        if self.interval > 0:
            threading.Thread(target=self._run, name="policy-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_once()
            except Exception:  # the watch must outlive any surprise; the policy in force stays
                log.exception("policy watch")
