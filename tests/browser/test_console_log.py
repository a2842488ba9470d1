"""The console's "Log integrity" page (R7.6; docs/decisions/034-log-export-and-stream.md): the
newest signed checkpoint as GET /v1/log/checkpoint serves it, and the log writer's background
verification against the checkpoints: intact, then broken once an entry is edited with SQL."""

import base64
import os
import sqlite3

import pytest

from tests.support.browser import shot, sign_in
from tests.support.server import KEY, Server

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo data served with a checkpoint and a background verification every second."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: `apt-get install -y chromium` to run the browser tests")
    folder = tmp_path_factory.mktemp("console-log")
    server = Server(folder, workers=1, env={"AUTHZ_LOG_VERIFY_SECONDS": "1", "AUTHZ_LOG_CHECKPOINT_SECONDS": "1"})
    server.load_demo()
    server.start()
    server.folder = folder
    yield server
    server.stop()


def _shown(page, selector: str, wanted: str) -> str:
    """The element's text once it holds `wanted` (the page reloaded while the writer works; bounded)."""
    text = ""
    for _ in range(120):
        page.goto("/console/log")
        text = page.locator(selector).inner_text() if page.locator(selector).count() else ""
        if wanted in text:
            break
        page.wait_for_timeout(250)
    return text


def test_the_newest_checkpoint_and_the_background_verification_show(page, live):
    for _ in range(3):
        assert live.call("POST", "/v1/authorize", {"user": "alice@acme.example", "action": "port.view",
                                                   "account": "initech"})[0] == 200
    sign_in(page)
    assert "extends every checkpoint" in _shown(page, "#audit", "extends every checkpoint")
    note = page.request.get("/v1/log/checkpoint", headers={"Authorization": f"Bearer {KEY}"}).text()
    origin, size, root = note.split("\n")[:3]
    assert _shown(page, "#checkpoint-size", size) == size  # the newest kept one, as the API serves it
    assert page.locator("#checkpoint-root").inner_text() == root
    assert page.locator("#checkpoint-key").inner_text().startswith(origin + "+")
    assert len(base64.b64decode(root)) == 32
    assert page.get_by_role("link", name="Log integrity").get_attribute("aria-current") == "page"
    shot(page, "log-integrity")
    with sqlite3.connect(live.folder / "authz.db") as db:  # R7.6: a database writer edits an entry
        db.execute('UPDATE "decision" SET "user_email" = \'mallory@evil.example\' WHERE "seq" = 2')
    assert "broken" in _shown(page, "#audit", "broken")
    assert "entry 2" in page.locator("#audit-lines").inner_text()
