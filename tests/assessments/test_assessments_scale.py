"""Assessments under load: constant query count per list page, concurrent replays."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from app.assessments.models import Assessment, GradeOverride
from tests.assessments.helpers import count_rows, seed_ulcer_body

URL = "/api/v1/wounds/{}/assessments"


def _insert(app, wound_id, clinic_id, n, user_id):
    """n assessments straight into the database, each with an override, so the
    list has every relationship to load."""
    from app.extensions import db

    start = datetime(2025, 3, 2, tzinfo=UTC)
    with app.app_context():
        for i in range(n):
            a = Assessment(
                clinic_id=clinic_id,
                wound_id=wound_id,
                assessed_at=start + timedelta(hours=i),
                length_cm=2.0,
                width_cm=2.0,
                ctcae_grade=4,
                rtog_grade=4,
            )
            db.session.add(a)
            db.session.flush()
            db.session.add(
                GradeOverride(
                    clinic_id=clinic_id,
                    assessment_id=a.id,
                    wound_id=a.wound_id,
                    scale="ctcae",
                    value=3,
                    derived_value=4,
                    reason="r",
                    by_user_id=user_id,
                )
            )
        db.session.commit()


def test_list_query_count_does_not_grow(app, factory, clinic, nurse, count_queries):
    from tests.assessments.helpers import make_wound

    small, large = make_wound(app, clinic), make_wound(app, clinic)
    _insert(app, small, clinic, 5, nurse.user_id)
    _insert(app, large, clinic, 50, nurse.user_id)
    nurse.get(URL.format(small))  # warm caches (token, mappers)
    counts = []
    for wound, n in ((small, 5), (large, 50)):
        with count_queries() as counter:
            r = nurse.get(URL.format(wound), query_string={"limit": 50})
        assert r.status_code == 200 and len(r.json["items"]) == n
        assert all(x["effective_grades"]["ctcae"]["value"] == 3 for x in r.json["items"])
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_twenty_concurrent_replays_leave_one_row(app, nurse, wound):
    body = seed_ulcer_body(id=str(uuid.uuid4()))

    def replay(_: int) -> tuple[int, str]:
        client = app.test_client()
        r = client.post(URL.format(wound), json=body, headers=nurse.headers)
        return r.status_code, (r.json or {}).get("id", "")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(replay, range(20)))
    statuses = sorted(s for s, _ in results)
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    assert {i for _, i in results} == {body["id"]}
    assert count_rows(app, Assessment) == 1


def test_twenty_concurrent_override_replays_leave_one_override(app, nurse, clinician, wound):
    """A clinician's phone retrying an override over a bad connection."""
    from app.assessments.models import GradeOverride

    aid = nurse.post(URL.format(wound), json=seed_ulcer_body()).json["id"]
    url = f"/api/v1/assessments/{aid}/grade-override"
    body = {"id": str(uuid.uuid4()), "scale": "rtog", "value": 3, "reason": "no ulcer"}

    def replay(_: int) -> int:
        return app.test_client().post(url, json=body, headers=clinician.headers).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(replay, range(20)))
    assert statuses == [200] * 19 + [201], statuses
    assert count_rows(app, GradeOverride) == 1
    got = nurse.get(f"/api/v1/assessments/{aid}").json
    assert got["version"] == 2 and got["grade_overrides"]["rtog"]["value"] == 3
