"""What the `authz` commands share: settings from the environment, the database connection."""

from authz_service import store
from authz_service.config import Settings


def current_settings() -> Settings:
    """AUTHZ_* settings, read when a command runs."""
    return Settings.from_env()


def connect() -> None:
    """Open the database the settings name."""
    store.connect(current_settings().database_url)
