"""/docs in Chromium: Swagger UI renders /openapi.json with request and response schemas, from
files this service serves (nothing from another host), without a key (decision 036)."""

import pytest

from tests.support.browser import shot

pytestmark = pytest.mark.slow


def test_docs_renders_the_authorize_schema_from_local_files(page, live):
    """POST /v1/authorize opens with its request body's fields and the 200 response's; every request
    the page makes goes to this service."""
    hosts = []
    page.on("request", lambda request: hosts.append(request.url.split("/")[2]))
    page.goto("/docs")
    operation = page.locator("#operations-decisions-post_v1_authorize, .opblock-post",
                             has_text="/v1/authorize").first
    operation.wait_for()
    page.locator(".opblock-summary-path", has_text="/v1/authorize").first.click()
    body = page.locator(".opblock.is-open").first
    body.locator(".opblock-section-request-body").wait_for()
    text = body.inner_text()
    for field in ("user", "action", "account", "session"):
        assert f'"{field}"' in text, field  # the example value built from the request schema
    assert "allowed" in text and "decision_id" in text  # the 200 response's example
    assert set(hosts) == {f"127.0.0.1:{live.port}"}
    shot(page, "docs")


def test_docs_assets_are_only_the_bundles(page):
    """Only the bundle's own file names are served; a path outside it is 404."""
    assert page.request.get("/docs/assets/swagger-ui-bundle.js").status == 200
    assert page.request.get("/docs/assets/..%2Fflask_swagger_ui.py").status == 404
    assert page.request.get("/docs/assets/LICENSE").status == 404
