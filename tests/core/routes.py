"""The routes the service documents, read from its own OpenAPI document.

Tests that must cover every route (401 without a token, 404 across clinics)
iterate this, so a route added later is checked without anyone editing them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Routes anyone may call without a token (the contract's public surface).
PUBLIC = {
    ("get", "/api/v1/health"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/revoke"),
    ("post", "/api/v1/auth/password-reset"),
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI template, e.g. /api/v1/patients/{patient_id}
    spec: dict[str, Any]

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def url(self, **values: Any) -> str:
        """The path with its parameters filled (random UUIDs for the ones not given)."""
        return re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1)) or uuid.uuid4()), self.path)

    @property
    def has_json_body(self) -> bool:
        content = self.spec.get("requestBody", {}).get("content", {})
        return "application/json" in content

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def openapi(client: Any) -> dict[str, Any]:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json


def operations(client: Any) -> list[Operation]:
    spec = openapi(client)
    return [
        Operation(method, path, item[method])
        for path, item in spec["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]
