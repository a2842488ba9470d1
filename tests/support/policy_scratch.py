"""A running app on a scratch copy of policies/, and the policy edits the reload tests make."""

import random
import shutil
import tomllib
from contextlib import contextmanager
from pathlib import Path

from authz_service import policy, store
from authz_service.app import create_app
from authz_service.policy import snapshot
from authz_service.store import fixtures
from tests.support.auth import BOOTSTRAP, bearer

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CHECK = {"user": "ike@initech.example", "action": "document.upload", "account": "initech"}


@contextmanager
def scratch_app(tmp_path: Path, database_url: str | None = None):
    """(app, policies): the demo data, a copy of policies/, a watch that only polls when asked."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    app = create_app({"database_url": database_url or f"sqlite:///{tmp_path}/a.db",
                      "bootstrap_key": BOOTSTRAP, "policy_dir": str(policies),
                      "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
    try:
        yield app, policies
    finally:
        store.close()


def allowed(client, check: dict = CHECK) -> bool:
    """POST /v1/authorize with the bootstrap key; the answer's `allowed`."""
    return client.post("/v1/authorize", json=check, headers=bearer()).json["allowed"]


def edit(path: Path, old: str, new: str) -> None:
    """Replace one text in a policy file (it must be there)."""
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def grant_support_document_upload(policies: Path) -> None:
    """Support may upload documents, and the R3 table rows say so (a consistent change, which
    no invariant forbids: an upload costs nothing)."""
    edit(policies / "services.csv", "p, support, *, document: view,", "p, support, *, document: view upload,")
    edit(policies / "tests" / "r3_customer_account.csv", "ike@initech.example,document.upload,initech,deny",
         "ike@initech.example,document.upload,initech,allow")
    edit(policies / "tests" / "r3_partner_account.csv", "sam@acme.example,document.upload,acme,deny",
         "sam@acme.example,document.upload,acme,allow")


def remove_read_only(policies: Path) -> None:
    """Drop the group read_only, every rule and invariant naming it and the table rows of its demo holders."""
    edit(policies / "vocabulary.toml", '"read_only", ', "")
    blocks = (policies / "invariants.toml").read_text().split("\n[[invariant]]")
    (policies / "invariants.toml").write_text("\n[[invariant]]".join(b for b in blocks if "read_only" not in b))
    for path in [*policies.glob("*.csv"), *(policies / "tests").glob("*.csv")]:
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines
                                if not any(word in line for word in ("read_only", "iris@", "rita@"))))


def policy_files(root: Path = POLICIES) -> dict[str, str]:
    """Every file a policy snapshot holds (name relative to policies/ -> text), to edit in memory."""
    return {name: data.decode("utf-8") for name, data in snapshot.read(root).files.items()}


def build(files: dict[str, str]) -> policy.Policy:
    """The policy made of these texts (no folder on disk), checked as the service checks it."""
    return policy.Policy(snapshot.Snapshot(Path("policies"), {n: t.encode("utf-8") for n, t in files.items()}, ()))


def replaced(files: dict[str, str], name: str, old: str, new: str) -> dict[str, str]:
    """A copy of `files` with one text replaced in one file (it must be there)."""
    assert old in files[name], (name, old)
    return {**files, name: files[name].replace(old, new, 1)}


def line_of(files: dict[str, str], name: str, text: str) -> str:
    """`policies/<name>:<line>` of the first line starting with `text`."""
    for number, line in enumerate(files[name].splitlines(), 1):
        if line.startswith(text):
            return f"policies/{name}:{number}"
    raise AssertionError((name, text))


GROUPS = ["admin", "regular", "read_only", "support"]
RULE_FILES = ["services.csv", "account.csv", "partner.csv"]
VERBS = tomllib.loads((POLICIES / "vocabulary.toml").read_text())["actions"]


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def mutate(files: dict[str, str], rng: random.Random, steps: int) -> dict[str, str]:
    """A random policy near the shipped one: lines dropped, verbs added, groups moved, denies added."""
    files = dict(files)
    for _ in range(steps):
        how = rng.choice(["drop", "verb", "regroup", "deny", "action", "cross"])
        name = "scoping.csv" if how == "regroup" else rng.choice(RULE_FILES)
        lines = lines_of(files[name])
        line = rng.choice(lines)
        if how == "drop":
            files[name] = files[name].replace(line + "\n", "", 1)
        elif how == "verb" and ":" in line:
            resource = line.split(",")[3].split(":")[0].strip()
            verb = rng.choice(VERBS[resource])
            files[name] = files[name].replace(line, line.replace(f"{resource}:", f"{resource}: {verb}", 1)
                                              if f" {verb} " not in line else line, 1)
        elif how == "regroup" and line.startswith("g, ") and "elsewhere" not in line:
            files[name] = files[name].replace(line, line.rsplit(",", 1)[0] + ", " + rng.choice(GROUPS), 1)
        elif how == "deny":
            action = rng.choice(["port.view", "billing.view", "grant.manage", "user.manage", "*"])
            files[name] += (f"p, {rng.choice(GROUPS)}, {rng.choice(['*', 'partner', 'customer'])}, "
                            f"{action}, deny\n")
        elif how == "cross":  # a group held with no relation (R4.8 broken: impact must see it)
            group = rng.choice(GROUPS)
            files["scoping.csv"] += f"g, none/{group}/-/none, {group}\n"
        elif how == "action" and "export" not in files["vocabulary.toml"]:
            files["vocabulary.toml"] = files["vocabulary.toml"].replace('history = ["view"]',
                                                                        'history = ["view", "export"]')
            files["tests/r3_partner_account.csv"] += "ada@acme.example,history.export,acme,allow\n"
            files[name] += f"p, {rng.choice(GROUPS)}, *, history: export, allow\n"
    return files
