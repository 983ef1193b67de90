"""docs/fhir.md and the README's FHIR section name only what the app serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

ROOT = Path(__file__).resolve().parent.parent.parent
_PATH = re.compile(r"(?:\b(GET|POST)\s+)?(/(?:fhir/R4|web/smart)[A-Za-z0-9_.<>{}\-/]*)")


@pytest.mark.parametrize("doc", ["docs/fhir.md", "README.md"])
def test_fhir_paths_in_the_docs_are_served(app, doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = {(m[1] or "GET", m[2].rstrip("./")) for m in _PATH.finditer(text)}
    named.discard(("GET", "/fhir/R4"))  # the base URL, named as such
    assert len(named) >= (7 if doc.startswith("docs") else 4), named
    urls = app.url_map.bind("localhost")
    missing = []
    for method, path in named:
        concrete = re.sub(r"<[^>]*>|\{[^}]*\}", "Patient", path)
        try:
            endpoint, _ = urls.match(concrete, method=method)
        except (NotFound, MethodNotAllowed):
            missing.append(f"{method} {path}")
            continue
        if endpoint == "fhir.unsupported":
            missing.append(f"{method} {path} (only the catch-all answers it)")
    assert not missing, f"{doc} names what the app does not serve: {missing}"
