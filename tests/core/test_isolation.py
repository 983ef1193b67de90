"""Clinic isolation on every record route: a user of another clinic gets 404.

Generic on purpose: the routes come from the OpenAPI document at test time and
a record of every type is created in clinic A through the API (tests/core/graph.py),
so a route added by any package is checked without editing this file. A record
type whose create route does not exist yet is skipped, with the reason.

The rule checked, for every documented operation with a record id in its path,
and for an outsider of every non-admin role (members of clinic B only):
the answer for clinic A's record is exactly the answer for an id that does not
exist (status and body), and it is 404 or 403 (403 only when that role may not
do the action anywhere). So the record's existence never leaks, and nothing
is read or changed.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.core.graph import STEPS, RecordGraph, Unavailable, table_of
from tests.core.routes import Operation, operations

# The record graph registers a webhook; it must stay off the network.
pytestmark = pytest.mark.usefixtures("local_webhooks")

OUTSIDER_ROLES = ("clinic_admin", "clinician", "nurse", "researcher")
RECORD_TYPES = ["clinics", *STEPS]


def _comparable(r: Any) -> tuple[int, Any]:
    body = r.get_json(silent=True)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "request_id"}
    return r.status_code, body


@pytest.fixture(autouse=True)
def _own_storage(app, tmp_path, monkeypatch):
    """Photos uploaded here go to a storage of this test's own, so they do not
    linger as orphans in the session's storage (which tests/photos inspects)."""
    from app.core.storage import make_storage

    monkeypatch.setitem(app.extensions, "storage", make_storage(tmp_path / "storage"))


@pytest.fixture
def insiders(factory, clinic, admin, clinic_admin, clinician, nurse) -> dict[str, Any]:
    return {"admin": admin, "clinic_admin": clinic_admin, "clinician": clinician, "nurse": nurse}


@pytest.fixture
def outsiders(factory, other_clinic) -> dict[str, Any]:
    return {role: factory.actor(role, other_clinic) for role in OUTSIDER_ROLES}


def _state(r: Any) -> Any:
    """What an outsider must not be able to change: a record's version, or for
    the unversioned rows (users, grants, exports) the fields a write would touch."""
    body = r.get_json(silent=True) or {}
    if "version" in body:
        return r.status_code, body["version"]
    keep = ("name", "is_active", "role", "revoked_at", "deleted", "clinic_id")
    return r.status_code, {k: body[k] for k in keep if k in body}


def _send(actor: Any, op: Operation, url: str, graph: RecordGraph) -> Any:
    headers = {"If-Match": '"v1"'} if op.method in ("patch", "put", "delete") else {}
    kw = graph.request_kwargs(op)
    return actor.request(op.method.upper(), url, headers=headers, **(kw or {}))


def test_every_record_id_parameter_has_a_known_type(client):
    """A route whose id names a type this test cannot create would go unchecked."""
    unknown = {
        f"{op} ({param} -> {table_of(op, param)})"
        for op in operations(client)
        for param in op.params
        if table_of(op, param) not in RECORD_TYPES
    }
    assert not unknown, "add a Step to tests/core/graph.py for: " + ", ".join(sorted(unknown))


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_other_clinics_get_404(client, clinic, insiders, outsiders, record_type):
    ops = [
        op for op in operations(client) if any(table_of(op, p) == record_type for p in op.params)
    ]
    if not ops:
        pytest.skip(f"no documented route addresses a {record_type} record yet")
    graph = RecordGraph(clinic, insiders, {(op.method, op.path) for op in operations(client)})
    try:
        values = {p: graph.id_of(table_of(op, p)) for op in ops for p in op.params}
    except Unavailable as exc:
        pytest.skip(f"cannot create a {record_type} record in clinic A: {exc}")

    # What the owner sees before, to prove afterwards that nothing changed.
    owner = insiders[STEPS[record_type].role] if record_type in STEPS else insiders["admin"]
    reads = [op for op in ops if op.method == "get" and op.path.endswith("}")]
    before = {str(op): _state(owner.get(op.url(**values))) for op in reads}

    failures: list[str] = []
    unreached: list[str] = []
    checked = 0
    for op in ops:
        known_body = graph.request_kwargs(op) is not None
        theirs = op.url(**values)
        for role, outsider in outsiders.items():
            ghost = op.url(**{p: uuid.uuid4() for p in op.params})
            a = _send(outsider, op, theirs, graph)
            b = _send(outsider, op, ghost, graph)
            if a.status_code == 422 and b.status_code == 422 and not known_body:
                unreached.append(f"{op} (no valid body in tests/core/graph.py BODIES)")
                continue
            if _comparable(a) != _comparable(b) or a.status_code not in (403, 404):
                failures.append(
                    f"{op} as {role} of clinic B: {a.status_code} "
                    f"{a.get_data()[:200]!r} (for a missing id: {b.status_code})"
                )
            checked += 1

    assert not failures, "clinic isolation broken:\n" + "\n".join(failures)
    # The records are intact after every outsider attempt.
    for op in reads:
        assert _state(owner.get(op.url(**values))) == before[str(op)], str(op)
    if unreached:
        pytest.skip(f"checked {checked} requests; could not reach: {sorted(set(unreached))}")
    assert checked > 0
