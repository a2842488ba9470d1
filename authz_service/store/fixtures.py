"""Loading the named demo data (authz_service/data/demo.toml) into the store (demo, policy
tables, tests). The file is package data, found through importlib.resources, so an installed
wheel (the Docker image) has it as a checkout does."""

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from authz_service.store import directory, models

DEFAULT = resources.files("authz_service").joinpath("data", "demo.toml")


def read(path: Traversable | Path | str = DEFAULT) -> dict:
    """The fixture file as data."""
    source = Path(path) if isinstance(path, str) else path
    return tomllib.loads(source.read_text(encoding="utf-8"))


def load(path: Traversable | Path | str = DEFAULT) -> dict:
    """Create or update every partner, customer, user and link named in the file (not its
    services and logins: demo_activity.load adds those for `authz demo`)."""
    data = read(path)
    with models.database.atomic():
        for pid, partner in data.get("partners", {}).items():
            directory.put_partner(pid, partner["name"])
            for email, group in partner.get("users", {}).items():
                directory.put_user(email, pid, "partner", group)
        for cid, customer in data.get("customers", {}).items():
            directory.put_customer(cid, customer["name"], customer["partner"])
            for email, group in customer.get("users", {}).items():
                directory.put_user(email, cid, "customer", group)
        for link in data.get("links", []):
            directory.put_link(link["user"], link["customer"], link["group"])
    return data
