"""The OpenAPI document keeps every operation and every documented response.

Clients are generated from the document and reviewers read it, so a refactor
that silently drops a route, a 409/412/428 or a schema name is a breaking
change even when every behaviour test still passes. This test compares the
document with the stored list in ``openapi_operations.json``: for each
(method, path) its request schemas, its parameters and, per response code, the
schema (or the shared response) it names.

When the API changes on purpose, regenerate the stored list and review its
diff in the commit:

    UPDATE_OPENAPI_OPERATIONS=1 .venv/bin/pytest tests/core/test_openapi_operations.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.core.routes import HTTP_METHODS, openapi

STORED = Path(__file__).with_name("openapi_operations.json")
UPDATE_ENV = "UPDATE_OPENAPI_OPERATIONS"
REGENERATE = f"{UPDATE_ENV}=1 .venv/bin/pytest tests/core/test_openapi_operations.py"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _content(content: dict[str, Any]) -> dict[str, str]:
    """Content type -> the schema it names ("inline" for an unnamed one, "" for none)."""
    out = {}
    for media_type, body in sorted(content.items()):
        schema = body.get("schema")
        if schema is None:
            out[media_type] = ""
        elif "$ref" in schema:
            out[media_type] = _ref_name(schema["$ref"])
        else:
            out[media_type] = "inline"
    return out


def _response(response: dict[str, Any]) -> Any:
    if "$ref" in response:
        return {"$ref": _ref_name(response["$ref"])}
    return _content(response.get("content", {}))


def summarize(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the stored list records of a document, keyed "METHOD /path"."""
    ops: dict[str, dict[str, Any]] = {}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            params = [*shared, *op.get("parameters", [])]
            entry: dict[str, Any] = {
                "parameters": sorted(f"{p['in']}:{p['name']}" for p in params),
                "request": _content(op.get("requestBody", {}).get("content", {})),
                "responses": {
                    code: _response(response) for code, response in sorted(op["responses"].items())
                },
            }
            if "operationId" in op:
                entry["operationId"] = op["operationId"]
            ops[f"{method.upper()} {path}"] = entry
    return dict(sorted(ops.items()))


def differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human-readable lines: what the current document lost or added."""
    lines = [f"lost operation {key}" for key in stored if key not in current]
    lines += [f"added operation {key}" for key in current if key not in stored]
    for key in stored.keys() & current.keys():
        before, after = stored[key], current[key]
        for code in before["responses"].keys() - after["responses"].keys():
            lines.append(f"{key}: lost response {code}")
        for code in after["responses"].keys() - before["responses"].keys():
            lines.append(f"{key}: added response {code}")
        for code in before["responses"].keys() & after["responses"].keys():
            if before["responses"][code] != after["responses"][code]:
                lines.append(
                    f"{key}: response {code} was {before['responses'][code]},"
                    f" is {after['responses'][code]}"
                )
        for part in ("request", "parameters", "operationId"):
            if before.get(part) != after.get(part):
                lines.append(f"{key}: {part} was {before.get(part)}, is {after.get(part)}")
    return sorted(lines)


def test_document_keeps_every_operation_and_response(client):
    current = summarize(openapi(client))
    if os.environ.get(UPDATE_ENV):
        STORED.write_text(json.dumps(current, indent=1) + "\n")
    stored = json.loads(STORED.read_text())
    diff = differences(stored, current)
    assert not diff, (
        "The OpenAPI document differs from tests/core/openapi_operations.json:\n  "
        + "\n  ".join(diff)
        + f"\nIf the change is deliberate, regenerate the list with\n  {REGENERATE}\n"
        "and commit its diff with the change."
    )


def test_the_comparison_names_what_was_lost_and_added():
    stored = {
        "GET /a": {"parameters": [], "request": {}, "responses": {"200": {}, "412": {}}},
        "GET /b": {"parameters": [], "request": {}, "responses": {"200": {}}},
    }
    current = {
        "GET /a": {
            "parameters": [],
            "request": {},
            "responses": {"200": {"application/json": "A"}, "428": {}},
        },
        "GET /c": {"parameters": [], "request": {}, "responses": {"200": {}}},
    }
    assert differences(stored, current) == [
        "GET /a: added response 428",
        "GET /a: lost response 412",
        "GET /a: response 200 was {}, is {'application/json': 'A'}",
        "added operation GET /c",
        "lost operation GET /b",
    ]
