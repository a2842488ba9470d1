"""The log's integrity calls of AuthzClient (scope `audit`): proofs, each checked here against a
checkpoint the caller has opened with tlog.open_checkpoint (the note from `GET /v1/log/checkpoint`,
text/plain, or from the witness folder) and the verifier key it was given out of band."""

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
        answer = self.call("GET", "/v1/log/proofs/inclusion",
                           query={"entry_id": entry_id, "size": checkpoint.size})[1]
        leaf = hashes({"leaf": [answer.get("leaf_hash") if isinstance(answer, dict) else None]}, "leaf")[0]
        index = answer.get("leaf_index")
        if not isinstance(index, int) or not verify_inclusion(index, checkpoint.size, leaf,
                                                              hashes(answer, "proof"), checkpoint.root):
            raise LogProofError(f"entry {entry_id} is not proven to be in the log of {checkpoint.size} entries")
        return leaf

    def prove_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        """The log of `new` extends the log of `old` (nothing removed or changed); LogProofError if not."""
        answer = self.call("GET", "/v1/log/proofs/consistency", query={"from": old.size, "to": new.size})[1]
        if old.origin != new.origin or not verify_consistency(old.size, new.size, old.root, new.root,
                                                              hashes(answer, "proof")):
            raise LogProofError(f"the log of {new.size} entries does not extend the log of {old.size}")
