"""The log's integrity calls of AuthzClient (scope `audit`): proofs, each checked here against a
checkpoint the caller has opened with tlog.open_checkpoint (the note from `GET /v1/log/checkpoint`,
text/plain, or from the witness folder) and the verifier key it was given out of band."""

import urllib.parse
from typing import Any

from authz_client.tlog import (
    Checkpoint,
    LogProofError,
    hashes,
    verify_consistency,
    verify_inclusion,
)


class LogProofs:
    """Mixed into AuthzClient, whose `call` it uses."""

    def call(self, method: str, path: str, body: Any = None,
             query: dict[str, Any] | None = None) -> tuple[int, Any]:
        raise NotImplementedError  # AuthzClient.call

    def prove_inclusion(self, entry_id: str, checkpoint: Checkpoint) -> bytes:
        """Entry `entry_id` is in the log `checkpoint` signs: its leaf hash; LogProofError if not proven."""
        return self._included(entry_id, checkpoint)[1]

    def _included(self, entry_id: str, checkpoint: Checkpoint) -> tuple[int, bytes]:
        answer = self.call("GET", "/v1/log/proofs/inclusion",
                           query={"entry_id": entry_id, "size": checkpoint.size})[1]
        leaf = hashes({"leaf": [answer.get("leaf_hash") if isinstance(answer, dict) else None]}, "leaf")[0]
        index = answer.get("leaf_index")
        if not isinstance(index, int) or not verify_inclusion(index, checkpoint.size, leaf,
                                                              hashes(answer, "proof"), checkpoint.root):
            raise LogProofError(f"entry {entry_id} is not proven to be in the log of {checkpoint.size} entries")
        return index, leaf

    def decision(self, decision_id: str) -> dict[str, Any]:
        """The log entry of a decision (the `decision_id` an authorize answer carries), with its
        `leaf_index` (None until it is in the log's tree); AuthzError 404 when there is none."""
        answer = self.call("GET", "/v1/decisions/" + urllib.parse.quote(decision_id, safe=""))[1]
        if not isinstance(answer, dict):
            raise LogProofError("the answer is not a log entry")
        return answer

    def prove_decision(self, decision_id: str, checkpoint: Checkpoint) -> dict[str, Any]:
        """The decision's entry, once its leaf is proven to be in the log `checkpoint` signs at
        the place the entry names; LogProofError otherwise (not yet in that checkpoint: wait
        for a newer one, GET /v1/log/checkpoint, at most 10 s)."""
        entry = self.decision(decision_id)
        index, entry_id = entry.get("leaf_index"), entry.get("entry_id")
        if not isinstance(index, int) or not isinstance(entry_id, str) or index >= checkpoint.size:
            raise LogProofError(f"decision {decision_id} is not in the log of {checkpoint.size} entries yet")
        if self._included(entry_id, checkpoint)[0] != index:
            raise LogProofError(f"decision {decision_id} is proven at another place than its entry names")
        return entry

    def prove_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        """The log of `new` extends the log of `old` (nothing removed or changed); LogProofError if not."""
        answer = self.call("GET", "/v1/log/proofs/consistency", query={"from": old.size, "to": new.size})[1]
        if old.origin != new.origin or not verify_consistency(old.size, new.size, old.root, new.root,
                                                              hashes(answer, "proof")):
            raise LogProofError(f"the log of {new.size} entries does not extend the log of {old.size}")
