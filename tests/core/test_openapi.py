"""The generated OpenAPI document is valid, and the interactive docs load offline."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.core.routes import openapi, operations


def test_openapi_document_is_valid(client):
    spec = openapi(client)
    validate(spec)
    assert spec["info"]["title"] == "WoundTrack API"
    assert spec["openapi"].startswith("3.")


def test_every_operation_documents_its_responses(client):
    for op in operations(client):
        assert op.spec.get("responses"), str(op)
        assert op.spec.get("summary") or op.spec.get("description"), f"{op} has no docstring"


def test_docs_page_and_its_assets_load(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3, html
    for url in assets:
        assert url.startswith("/api/v1/docs"), url  # served here, no CDN
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.data, url
        asset.close()
    init = client.get("/api/v1/docs/init.js").get_data(as_text=True)
    [spec_url] = re.findall(r'url: "([^"]+)"', init)
    assert client.get(spec_url).status_code == 200


def test_bearer_auth_is_declared_and_public_operations_opt_out(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    public = {("/api/v1/health", "get"), ("/api/v1/auth/token", "post")}
    public |= {("/api/v1/auth/refresh", "post"), ("/api/v1/auth/revoke", "post")}
    for path, method in public:
        assert spec["paths"][path][method]["security"] == [], path
    assert "security" not in spec["paths"]["/api/v1/patients"]["get"]
