"""The committed screenshots change only through `make screenshots` (no browser needed here)."""

from tests.support import browser
from tests.support.browser import WRITE_SHOTS_ENV, shot


class FakePage:
    """Records what a Playwright page was asked to screenshot, and writes the file it was given."""

    def __init__(self):
        self.calls = []

    def screenshot(self, path=None, full_page=False):
        self.calls.append(path)
        if path:
            with open(path, "wb") as out:
                out.write(b"png")
        return b"png"


def test_a_test_run_leaves_the_committed_screenshots_alone(tmp_path, monkeypatch):
    """Without AUTHZ_WRITE_SCREENSHOTS=1 the page is still rendered, but nothing is written."""
    monkeypatch.delenv(WRITE_SHOTS_ENV, raising=False)
    monkeypatch.setattr(browser, "SHOTS", tmp_path / "screenshots")
    page = FakePage()
    shot(page, "signin")
    assert page.calls == [None]
    assert not (tmp_path / "screenshots").exists()


def test_make_screenshots_writes_them(tmp_path, monkeypatch):
    """`make screenshots` sets AUTHZ_WRITE_SCREENSHOTS=1: each shot lands in docs/screenshots/."""
    monkeypatch.setenv(WRITE_SHOTS_ENV, "1")
    monkeypatch.setattr(browser, "SHOTS", tmp_path / "screenshots")
    page = FakePage()
    shot(page, "signin")
    assert (tmp_path / "screenshots" / "signin.png").read_bytes() == b"png"
