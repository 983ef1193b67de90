"""What a create costs in SQL, and the replay answers that insert-first
idempotency (no look-up of the client id before the INSERT) must keep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench.bench_records import _assessment_body


def _body() -> dict:
    return _assessment_body(0, datetime.now(UTC) - timedelta(hours=1))


def test_create_issues_no_reloads(app, nurse, wound, count_queries):
    url = f"/api/v1/wounds/{wound}/assessments"
    assert nurse.post(url, json=_body()).status_code == 201  # warm
    with count_queries() as counter:
        r = nurse.post(url, json=_body())
    assert r.status_code == 201, r.json
    assert r.json["grade_override"] is None and r.json["grade_overrides"] is None
    sql = counter.statements
    # One SELECT authenticates (token, user and memberships), one loads the wound;
    # no SELECT of the new id, of its (non-existent) overrides, or of the user
    # again after the commit. Then the alert rules (app/alerts/evaluate.py), in
    # the same transaction, in ONE SELECT: the wound with its clinic's
    # thresholds, its unresolved alerts and its areas in time order. The latest
    # assessment is the one just created (no override yet): read from memory.
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2 + 1, sql
    inserts = [s for s in counter.statements if s.lstrip().upper().startswith("INSERT")]
    # The assessment and its audit event; its version 1 is the record itself
    # until it is amended (app/core/history.py).
    assert len(inserts) == 2, sql
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Nothing written before the INSERT, so no savepoint guards it.
        assert not [s for s in sql if "SAVEPOINT" in s.upper()], sql


def test_replay_with_an_invalid_body_is_still_a_replay(nurse, wound):
    url = f"/api/v1/wounds/{wound}/assessments"
    body = _body()
    assert nurse.post(url, json=body).status_code == 201
    # Same id, content that the create would refuse (tissue over 100 %): the id
    # is taken, so the answer is the 409 with the stored record, not a 422.
    bad = {**body, "tissue": {**body["tissue"], "necrotic_pct": 90}}
    r = nurse.post(url, json=bad)
    assert r.status_code == 409, r.json
    assert r.json["stored"]["id"] == body["id"]
    assert nurse.post(url, json=body).status_code == 200


def test_reused_id_from_another_clinic_is_a_conflict(nurse, outsider, wound, app, other_clinic):
    from tests.assessments.helpers import make_wound

    url = f"/api/v1/wounds/{wound}/assessments"
    body = _body()
    assert nurse.post(url, json=body).status_code == 201
    theirs = make_wound(app, other_clinic)
    r = outsider.post(f"/api/v1/wounds/{theirs}/assessments", json=body)
    assert r.status_code == 409
    assert "stored" not in r.json
    assert uuid.UUID(body["id"])


def _age_token(app: Any, token: str, seconds: int) -> datetime:
    """Move the token's last use ``seconds`` back, so the next request touches it."""
    import sqlalchemy as sa

    from app.auth.models import AuthToken
    from app.auth.services import _digest
    from app.extensions import db

    with app.app_context():
        stamp = datetime.now(UTC) - timedelta(seconds=seconds)
        db.session.execute(
            sa.update(AuthToken)
            .where(AuthToken.token_hash == _digest(token))
            .values(last_used_at=stamp)
        )
        db.session.commit()
    return stamp


def _last_used(app: Any, token: str) -> datetime:
    import sqlalchemy as sa

    from app.auth.models import AuthToken
    from app.auth.services import _digest
    from app.extensions import db

    with app.app_context():
        return db.session.scalars(
            sa.select(AuthToken.last_used_at).where(AuthToken.token_hash == _digest(token))
        ).one()


def test_replay_keeps_the_requests_earlier_writes(app, nurse, wound):
    """The token's idle clock is written before the create's INSERT; a replay
    (200, committed) must not roll that write back with its own failed INSERT."""
    url = f"/api/v1/wounds/{wound}/assessments"
    body = _body()
    assert nurse.post(url, json=body).status_code == 201
    stale = _age_token(app, nurse.token, 300)
    r = nurse.post(url, json=body)
    assert r.status_code == 200 and r.json["id"] == body["id"], r.json
    assert _last_used(app, nurse.token) > stale + timedelta(seconds=200)


def test_replay_with_nothing_written_before_answers_from_a_fresh_transaction(nurse, wound):
    """With nothing written before the INSERT the whole transaction is rolled
    back on the conflict; the replay is still answered, from the stored row and
    the caller's memberships read again."""
    url = f"/api/v1/wounds/{wound}/assessments"
    body = _body()
    assert nurse.post(url, json=body).status_code == 201
    r = nurse.post(url, json=body)
    assert r.status_code == 200 and r.json["id"] == body["id"]
    r = nurse.post(url, json={**body, "pain_score": 9})
    assert r.status_code == 409 and r.json["stored"]["pain_score"] == 3
    assert len(nurse.get(url).json["items"]) == 1
