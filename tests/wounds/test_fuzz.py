"""Fuzzed bodies for wounds, radiotherapy courses and fractions: never a 5xx,
and a rejected request writes nothing."""

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import patient_body

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
DATES = st.one_of(
    st.dates(min_value=date(1900, 1, 1), max_value=date.today() + timedelta(days=30)).map(
        date.isoformat
    ),
    st.sampled_from(["2024-02-30", "", "yesterday"]),
    JUNK,
)
NUMBER = st.one_of(st.floats(-10, 4000), st.integers(-10, 100), JUNK)

WOUND = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.uuids().map(str), JUNK),
        "body_site": st.one_of(st.text(max_size=210), JUNK),
        "laterality": st.one_of(st.sampled_from(["left", "right", "none"]), JUNK),
        "in_skin_fold": st.one_of(st.booleans(), JUNK),
        "etiology": st.one_of(st.sampled_from(["radiation_ulcer", "pressure"]), JUNK),
        "radiotherapy_course_id": st.one_of(st.uuids().map(str), JUNK),
        "onset_date": DATES,
        "status": st.one_of(st.sampled_from(["open", "healed"]), JUNK),
        "healed_on": DATES,
        "clinic_id": st.uuids().map(str),
        "version": JUNK,
    },
)
PHASE = st.fixed_dictionaries(
    {},
    optional={
        "technique": st.one_of(st.sampled_from(["imrt", "srt"]), JUNK),
        "dose_per_fraction_cgy": NUMBER,
        "fractions": NUMBER,
        "start_date": DATES,
    },
)
COURSE = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.uuids().map(str), JUNK),
        "target_site": st.one_of(st.text(max_size=210), JUNK),
        "start_date": DATES,
        "end_date": DATES,
        "phases": st.one_of(st.lists(st.one_of(PHASE, JUNK), max_size=3), JUNK),
        "total_dose_cgy": NUMBER,
    },
)
FRACTION = st.fixed_dictionaries(
    {}, optional={"id": st.uuids().map(str), "delivered_on": DATES, "dose_cgy": NUMBER}
)

VALID_WOUND = {
    "body_site": "axilla",
    "laterality": "left",
    "etiology": "radiation_dermatitis",
    "onset_date": (date.today() - timedelta(days=10)).isoformat(),
}
VALID_COURSE = {
    "target_site": "axilla",
    "start_date": (date.today() - timedelta(days=60)).isoformat(),
    "phases": [{"technique": "imrt", "dose_per_fraction_cgy": 200, "fractions": 25}],
}
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _count(app, model):
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _check(app, actor, url, model, valid, body, base):
    sent = {**valid, **body} if base else body
    before = _count(app, model)
    r = actor.post(url, json=sent)
    assert r.status_code < 500, (sent, r.json)
    if r.status_code >= 400:
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert _count(app, model) == before


def test_fuzzed_wounds(app, nurse):
    from app.wounds.models import Wound

    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    url = f"/api/v1/patients/{pid}/wounds"

    @SETTINGS
    @given(body=WOUND, base=st.booleans())
    def check(body, base):
        _check(app, nurse, url, Wound, VALID_WOUND, body, base)

    check()


def test_fuzzed_courses_and_fractions(app, nurse):
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse

    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    url = f"/api/v1/patients/{pid}/radiotherapy-courses"
    cid = nurse.post(url, json={**VALID_COURSE, "id": str(uuid.uuid4())}).json["id"]

    @SETTINGS
    @given(body=COURSE, base=st.booleans())
    def check_course(body, base):
        _check(app, nurse, url, RadiotherapyCourse, VALID_COURSE, body, base)

    @SETTINGS
    @given(body=FRACTION, base=st.booleans())
    def check_fraction(body, base):
        valid = {"delivered_on": VALID_COURSE["start_date"], "dose_cgy": 200}
        _check(
            app, nurse, f"/api/v1/radiotherapy-courses/{cid}/fractions", FractionDelivery, valid,
            body, base,
        )  # fmt: skip

    @SETTINGS
    @given(body=st.one_of(COURSE, WOUND))
    def check_patch(body):
        course_url = f"/api/v1/radiotherapy-courses/{cid}"
        current = nurse.get(course_url)
        body = {k: v for k, v in body.items() if k != "id"}
        r = nurse.patch(course_url, json=body, etag=current.headers["ETag"])
        assert r.status_code < 500, (body, r.json)
        if r.status_code >= 400:
            assert nurse.get(course_url).json["version"] == current.json["version"]

    check_course()
    check_fraction()
    check_patch()
