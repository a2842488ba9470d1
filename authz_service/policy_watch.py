"""Policy changes reach every worker and replica: each process watches policies/ and reloads.

A reload that fails its checks keeps the last good policy and says why (R9.2);
/readyz shows the version in force and the last error.
"""

import logging
import threading

from authz_service import policy

log = logging.getLogger("authz.policy")


class PolicyWatch:
    """Polls the policy files' hash; on a change, loads, checks and swaps in the new policy."""

    def __init__(self, state, interval: float):
        self.state = state
        self.interval = interval
        self.error: str | None = None
        self._stop = threading.Event()

    def check_once(self) -> bool:
        """Reload if the files changed; True when a new policy is now in force."""
        directory = self.state.settings.policy_dir
        try:
            if policy.version_of(directory) == self.state.policy.version:
                return False
            fresh = policy.load(directory)
        except policy.PolicyError as exc:
            self._refuse(str(exc))
            return False
        except OSError as exc:
            self._refuse(f"cannot read the policy files: {exc}")
            return False
        self.state.policy = fresh  # one reference swap: a request sees the old or the new
        self.error = None
        log.warning("policy %s loaded", fresh.version)
        return True

    def _refuse(self, why: str) -> None:
        if why != self.error:
            log.error("policy reload refused, keeping %s: %s", self.state.policy.version, why)
        self.error = why

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
            self.check_once()
