"""Loading the named demo data of fixtures/*.toml into the store (demo, policy tables, tests)."""

import tomllib
from pathlib import Path

from authz_service.store import directory, models

DEFAULT = Path(__file__).resolve().parents[2] / "fixtures" / "demo.toml"


def read(path: Path | str = DEFAULT) -> dict:
    """The fixture file as data."""
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def load(path: Path | str = DEFAULT) -> dict:
    """Create or update every partner, customer, user and link named in the file."""
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
