"""/docs: the OpenAPI document rendered by Swagger UI, whose files come from the flask-swagger-ui
package and are served by this service (nothing from a CDN or any other host; decision 036)."""

from pathlib import Path

import flask_swagger_ui
from flask import Response, abort, render_template, send_from_directory

# The bundle's files, shipped inside the Python package: served as they are, by name only.
DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSETS = frozenset({"swagger-ui.css", "index.css", "swagger-ui-bundle.js",
                    "swagger-ui-standalone-preset.js", "favicon-32x32.png", "favicon-16x16.png"})
# Scripts and styles from this origin only; Swagger UI draws its icons as data: images and sets
# inline styles; "Try it out" calls this origin only; the page cannot be framed.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
# Swagger UI's start-up, a file rather than an inline script (so CSP needs no 'unsafe-inline'
# for scripts); validatorUrl null: the default would send the document to another host;
# deepLinking off: it puts a link inside each operation's button (axe: nested-interactive).
INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: false, validatorUrl: null,
    docExpansion: "list", defaultModelsExpandDepth: 1, displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl], layout: "BaseLayout"
  });
});
"""


# Swagger UI's badges and muted text, darkened to a contrast of 4.5:1 or more (WCAG AA, axe-core).
DOCS_CSS = """.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1f5f99 !important; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #0d652d !important; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8a4b00 !important; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #a50e0e !important; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0f6b62 !important; }
.swagger-ui .btn.authorize { color: #0d652d !important; border-color: #0d652d !important; }
.swagger-ui .btn.authorize svg { fill: #0d652d !important; }
.swagger-ui .info .title small, .swagger-ui .info .title small.version-stamp { background: #3b4151 !important; }
.swagger-ui .info .title small pre { color: #fff !important; }
.swagger-ui .info .base-url, .swagger-ui .info a, .swagger-ui .info .url, .swagger-ui .opblock-summary-description,
.swagger-ui .parameter__in, .swagger-ui .prop-format, .swagger-ui .model-title,
.swagger-ui .opblock-tag small, .swagger-ui .opblock-description-wrapper p { color: #3b4151 !important; }
"""


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def page(title: str, version: str) -> Response:
    """The /docs page: Swagger UI over /openapi.json (schemas, examples, try-it-out)."""
    html = render_template("docs/swagger.html", title=title, version=version)
    return _secured(Response(html, mimetype="text/html"))


def asset(name: str) -> Response:
    """One of Swagger UI's files from the package, or our start-up script; anything else 404."""
    if name == "init.js":
        return _secured(Response(INIT_JS, mimetype="text/javascript"))
    if name == "docs.css":
        return _secured(Response(DOCS_CSS, mimetype="text/css"))
    if name not in ASSETS:
        abort(404)
    response = send_from_directory(DIST, name, max_age=3600)
    return _secured(response)


def init_app(app) -> None:
    """Serve the bundle's files under /docs/assets/ (keyless, like /docs; not an API operation)."""
    app.add_url_rule("/docs/assets/<name>", "docs_asset", asset, methods=["GET"])
