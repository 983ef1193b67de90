"""GET /api/v1/health: no token, database and storage checked for real."""

from __future__ import annotations


def test_health_ok(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json == {"status": "ok", "database": "ok", "storage": "ok"}
    assert r.headers["Cache-Control"] == "no-store"


def test_storage_not_writable_is_503(app, client, tmp_path, monkeypatch):
    from app.core.storage import make_storage

    root = tmp_path / "store"
    storage = make_storage(root)
    # The storage directory disappears and a file takes its place (a lost mount,
    # say): nothing can be written there any more, even by root.
    root.rmdir()
    root.write_text("not a directory")
    monkeypatch.setitem(app.extensions, "storage", storage)

    r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.json == {"status": "degraded", "database": "ok", "storage": "not writable"}
