"""The bootstrap key the in-process app is built with, and the Authorization header for a key."""

BOOTSTRAP = "test-bootstrap-key-0123456789"


def bearer(key: str = BOOTSTRAP) -> dict:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {key}"}
