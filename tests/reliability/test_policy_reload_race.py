"""Reloads under concurrent file changes: the version a worker reports names exactly the files it runs (R9.6).

A writer keeps deploying two files one after another (services.csv, then
account.csv), each in one of two variants, while a worker reloads as the watch
does. Every policy the worker ends up with must decide exactly as the files its
version names: never rules of one deploy under the label of another.
"""

import itertools
import random
import shutil
import threading
from pathlib import Path

import pytest

from authz_service import policy
from authz_service.policy import NONE, Facts

POLICIES = Path(__file__).resolve().parents[2] / "policies"
VARIANTS = {
    "services.csv": ("p, support, *, document: view,", "p, support, *, document: view upload,"),
    "account.csv": ("p, read_only, *, invoice: view download", "p, read_only, *, invoice: view"),
}
PROBES = [(Facts("customer", "home", "support", NONE, "none"), "document.upload"),
          (Facts("customer", "home", "read_only", NONE, "none"), "invoice.download")]
RELOADS = 16

pytestmark = pytest.mark.slow


def texts(name: str) -> list[str]:
    original = (POLICIES / name).read_text()
    old, new = VARIANTS[name]
    assert old in original
    return [original, original.replace(old, new)]


def decisions(loaded: policy.Policy) -> tuple[bool, ...]:
    return tuple(loaded.decide(facts, action).allowed for facts, action in PROBES)


def expected_by_version(tmp_path: Path) -> dict[str, tuple[bool, ...]]:
    """Every combination a deploy can leave on disk, built on its own: version -> decisions."""
    expected = {}
    for n, combo in enumerate(itertools.product(*(texts(name) for name in VARIANTS))):
        folder = tmp_path / f"combo{n}" / "policies"
        shutil.copytree(POLICIES, folder)
        for name, text in zip(VARIANTS, combo, strict=True):
            (folder / name).write_text(text)
        loaded = policy.load(folder)
        expected[loaded.version] = decisions(loaded)
    assert len(set(expected.values())) == 4
    return expected


def test_the_version_always_names_the_files_in_force(tmp_path):
    """Property over a bounded number of reloads while files change under them."""
    expected = expected_by_version(tmp_path)
    live = tmp_path / "live" / "policies"
    shutil.copytree(POLICIES, live)
    choices = {name: texts(name) for name in VARIANTS}
    stop, rng = threading.Event(), random.Random()

    def deploy():
        while not stop.is_set():
            for name, options in choices.items():  # one file after another, as a deploy does
                (live / name).write_text(rng.choice(options))
                stop.wait(rng.uniform(0, 0.05))
            stop.wait(rng.uniform(0, 0.6))

    writer = threading.Thread(target=deploy, daemon=True)
    writer.start()
    seen, refused = [], 0
    try:
        for _ in range(RELOADS):
            stop.wait(rng.uniform(0.05, 0.3))  # the watch's next tick
            try:
                loaded = policy.load(live, settle=0.1)
            except policy.PolicyError as exc:  # kept changing: the watch keeps the policy in force
                assert "kept changing" in str(exc)
                refused += 1
                continue
            assert loaded.version in expected, "a version no deploy ever left on disk"
            assert decisions(loaded) == expected[loaded.version], "rules and version disagree"
            seen.append(loaded.version)
    finally:
        stop.set()
        writer.join()
    assert len(seen) >= RELOADS // 2, f"only {len(seen)} of {RELOADS} reloads succeeded ({refused} refused)"
