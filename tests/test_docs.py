"""docs/api.md stays true to the service: every API path it names exists.

The mobile app codes against docs/api.md, so a path that the reference still
names after the route was renamed or removed is a bug in the reference. Every
``/api/v1/...`` path written anywhere in the file (in backticks, tables or
code examples) is checked against the app's own OpenAPI document; when the
path is written after an HTTP method (``GET /api/v1/wounds/{wound_id}``), the
method must be documented for it too. Path parameters are compared by
position only, so ``{id}`` in the reference matches ``{wound_id}`` in the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.core.routes import HTTP_METHODS, openapi

DOCS = Path(__file__).resolve().parent.parent / "docs"
API_DOC = DOCS / "api.md"
# Other pages that name API paths in passing; they must not name stale ones either.
OTHER_DOCS = ("clinical-reference.md", "seed-case.md", "fhir.md")
BASE = "/api/v1"

# Served by the app but not operations of the OpenAPI document itself: the
# document and the interactive docs page. Checked against the app's URL map.
NOT_IN_OPENAPI = {"/api/v1/openapi.json", "/api/v1/docs"}

_REFERENCE = re.compile(
    r"(?:\b(?P<method>GET|POST|PUT|PATCH|DELETE)\s+)?"
    r"(?:https?://[^/\s`]+)?"
    r"(?P<path>/api/v1(?:/[A-Za-z0-9_.{}\-]*)*)"
)


_UUID = r"(?<=/)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/|$)"


@dataclass(frozen=True)
class Reference:
    """One API path named in the reference, with its method when one is written."""

    doc: str
    line: int
    method: str | None
    written: str  # as the reference spells it
    path: str  # normalised, for comparison

    def __str__(self) -> str:
        named = f"{self.method} {self.written}" if self.method else self.written
        return f"docs/{self.doc} line {self.line}: {named}"


def normalise(path: str) -> str:
    """A path with its parameters (and concrete ids) reduced to ``{}``, no trailing dot or slash."""
    path = path.rstrip(".").rstrip("/") or "/"
    path = re.sub(r"\{[^}]*\}", "{}", path)
    path = re.sub(r"<[^>]*>", "{}", path)  # werkzeug rules: <uuid:wound_id>
    return re.sub(_UUID, "{}", path)  # a concrete id in an example URL


def references(text: str, doc: str = "api.md") -> list[Reference]:
    """Every ``/api/v1/...`` path the text of ``docs/<doc>`` names (not the bare base path)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _REFERENCE.finditer(line):
            path = normalise(match["path"])
            if path != BASE:
                written = match["path"].rstrip(".")
                found.append(Reference(doc, number, match["method"], written, path))
    return found


def documented_operations(spec: dict[str, Any]) -> dict[str, set[str]]:
    """Normalised path -> the HTTP methods the OpenAPI document gives it."""
    operations: dict[str, set[str]] = {}
    for path, item in spec["paths"].items():
        methods = {m.upper() for m in HTTP_METHODS if m in item}
        operations.setdefault(normalise(path), set()).update(methods)
    return operations


def problems(text: str, spec: dict[str, Any], served: set[str], doc: str = "api.md") -> list[str]:
    """What the reference names that the app does not have, one line per problem.

    ``served`` holds the normalised paths of the app's URL map, for the few
    documented paths that are not OpenAPI operations (NOT_IN_OPENAPI).
    """
    operations = documented_operations(spec)
    out = []
    for ref in references(text, doc):
        if ref.path in NOT_IN_OPENAPI:
            if ref.path not in served:
                out.append(f"{ref}: the app no longer serves this path")
            continue
        methods = operations.get(ref.path)
        if methods is None:
            out.append(f"{ref}: no such path in the OpenAPI document")
        elif ref.method is not None and ref.method not in methods:
            allowed = ", ".join(sorted(methods))
            out.append(f"{ref}: {ref.method} is not documented for it (only {allowed})")
    return out


def _served_paths(app: Any) -> set[str]:
    return {normalise(rule.rule) for rule in app.url_map.iter_rules()}


def test_every_path_in_the_api_reference_exists(app, client):
    text = API_DOC.read_text(encoding="utf-8")
    spec = openapi(client)
    named = references(text)
    # The reference documents the whole API: finding only a handful means the
    # extraction broke (or the file was emptied), not that all is well.
    assert len({r.path for r in named}) >= 50, [str(r) for r in named]
    assert sum(r.method is not None for r in named) >= 50
    missing = problems(text, spec, _served_paths(app))
    assert not missing, "docs/api.md names what the app does not have:\n" + "\n".join(missing)


def test_the_check_reports_a_path_or_method_that_does_not_exist(app, client):
    spec = openapi(client)
    text = (
        "Fine: `GET /api/v1/wounds/{id}` and `PATCH /api/v1/wounds/{wound_id}`.\n"
        "Gone: `GET /api/v1/wounds/{id}/bogus`, `PUT /api/v1/patients/{id}`,\n"
        "`/api/v1/no-such-thing` and http://127.0.0.1:8000/api/v1/nowhere.\n"
    )
    assert problems(text, spec, _served_paths(app)) == [
        "docs/api.md line 2: GET /api/v1/wounds/{id}/bogus: no such path in the OpenAPI document",
        "docs/api.md line 2: PUT /api/v1/patients/{id}: PUT is not documented for it "
        "(only DELETE, GET, PATCH)",
        "docs/api.md line 3: /api/v1/no-such-thing: no such path in the OpenAPI document",
        "docs/api.md line 3: /api/v1/nowhere: no such path in the OpenAPI document",
    ]


@pytest.mark.parametrize("doc", OTHER_DOCS)
def test_paths_named_in_the_other_docs_exist(app, client, doc):
    text = (DOCS / doc).read_text(encoding="utf-8")
    missing = problems(text, openapi(client), _served_paths(app), doc)
    assert not missing, f"docs/{doc} names what the app does not have:\n" + "\n".join(missing)
