"""Property test: any assessment body answers 2xx or 4xx, never 5xx, and a
rejected body writes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.assessments.models import Assessment
from tests.assessments.helpers import count_rows, make_wound, seed_ulcer_body

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
NUMBER = st.one_of(st.floats(min_value=-5, max_value=150), st.integers(-5, 150), JUNK)
ENUM = st.one_of(st.sampled_from(["none", "moderate", "small", "dry", "moist", "brisk"]), JUNK)
TIMES = st.one_of(
    st.sampled_from(
        [
            "2025-03-10T09:30:00+01:00",
            "2025-02-01T09:30:00Z",
            "2999-01-01T00:00:00Z",
            "2025-03-10",
            "2025-13-40T00:00:00Z",
        ]
    ),
    JUNK,
)
TISSUE = st.one_of(
    JUNK,
    st.fixed_dictionaries(
        {},
        optional={
            "epithelial_pct": NUMBER,
            "granulation_pct": NUMBER,
            "slough_pct": NUMBER,
            "necrotic_pct": NUMBER,
        },
    ),
)
FINDINGS = st.one_of(
    JUNK,
    st.fixed_dictionaries(
        {},
        optional={
            "erythema": ENUM,
            "desquamation": ENUM,
            "moist_beyond_skin_folds": st.one_of(st.booleans(), JUNK),
            "edema": ENUM,
            "ulceration": st.one_of(st.sampled_from(["partial_thickness", "full_thickness"]), JUNK),
            "necrosis": st.one_of(st.booleans(), JUNK),
        },
    ),
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.uuids().map(str), JUNK),
        "assessed_at": TIMES,
        "length_cm": NUMBER,
        "width_cm": NUMBER,
        "depth_cm": NUMBER,
        "area_cm2": NUMBER,
        "exudate_amount": ENUM,
        "exudate_type": ENUM,
        "tissue": TISSUE,
        "closed": st.one_of(st.booleans(), JUNK),
        "pain_score": NUMBER,
        "odor": st.one_of(st.booleans(), JUNK),
        "notes": st.one_of(st.text(max_size=40), JUNK),
        "findings": FINDINGS,
        "bwat": st.one_of(JUNK, st.dictionaries(st.sampled_from(["size", "depth", "x"]), NUMBER)),
        "ctcae_grade": JUNK,
    },
)


def test_fuzzed_bodies_never_5xx_and_rejections_write_nothing(app, clinic, nurse):
    wound = make_wound(app, clinic)
    url = f"/api/v1/wounds/{wound}/assessments"

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=BODY, base=st.booleans())
    def check(body, base):
        # Half the time mutate a valid body, so deep fields are reached too.
        sent = {**seed_ulcer_body(), **body} if base else body
        before = count_rows(app, Assessment)
        r = nurse.post(url, json=sent)
        assert r.status_code < 500, (sent, r.json)
        if r.status_code >= 400:
            assert r.headers["Content-Type"].startswith("application/problem+json")
            assert count_rows(app, Assessment) == before
        else:
            assert r.json["version"] == 1

    check()


def test_fuzzed_patches_never_5xx(app, clinic, nurse):
    wound = make_wound(app, clinic)
    created = nurse.post(f"/api/v1/wounds/{wound}/assessments", json=seed_ulcer_body()).json
    url = f"/api/v1/assessments/{created['id']}"

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=BODY)
    def check(body):
        current = nurse.get(url)
        r = nurse.patch(url, json=body, etag=current.headers["ETag"])
        assert r.status_code < 500, (body, r.json)
        if r.status_code >= 400:
            assert nurse.get(url).json["version"] == current.json["version"]

    check()
