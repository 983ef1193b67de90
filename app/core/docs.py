"""Interactive API docs (Swagger UI) served from the installed bundle, so the
docs work on a network with no CDN and under a strict CSP (no inline script)."""

from flask import Blueprint, Response, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs", __name__, url_prefix="/api/v1")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WoundTrack API</title>
<link rel="stylesheet" href="{css}"></head>
<body><div id="swagger-ui"></div>
<script src="{bundle}"></script><script src="{init}"></script></body></html>
"""

_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: "%s", dom_id: "#swagger-ui"});
};
"""


@bp.get("/docs")
def docs_page() -> Response:
    html = _PAGE.format(
        css=url_for("docs.asset", filename="swagger-ui.css"),
        bundle=url_for("docs.asset", filename="swagger-ui-bundle.js"),
        init=url_for("docs.init_js"),
    )
    return Response(html, mimetype="text/html")


@bp.get("/docs/init.js")
def init_js() -> Response:
    return Response(_INIT % url_for("api-docs.openapi_json"), mimetype="text/javascript")


@bp.get("/docs/assets/<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=3600)
