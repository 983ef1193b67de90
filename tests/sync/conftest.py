"""Every sync test has a storage and a temp folder of its own: partial
uploads wait in the temp folder, and one test's leftovers must not show up in
another's storage check."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_storage(app, tmp_path, monkeypatch):
    from app.core.storage import make_storage

    monkeypatch.setitem(app.extensions, "storage", make_storage(tmp_path / "storage"))
    monkeypatch.setitem(app.config, "TEMP_DIR", str(tmp_path / "storage" / ".tmp"))
    return tmp_path / "storage"
