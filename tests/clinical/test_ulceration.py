"""CTCAE v5.0 "Skin ulceration" graded beside "Dermatitis radiation"."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clinical.grading import ULCERATION, Findings
from app.clinical.ulceration import SCALE, TERM, grade_skin_ulceration, has_ulcer

PARTIAL = Findings(ulceration="partial_thickness")
FULL = Findings(ulceration="full_thickness")


def test_no_ulcer_recorded_is_not_graded() -> None:
    assert grade_skin_ulceration(Findings(), 3.0) is None
    assert grade_skin_ulceration(Findings(erythema="brisk", desquamation="moist"), 5.0) is None
    assert not has_ulcer(Findings(necrosis=True))
    assert TERM == "Skin ulceration"


@pytest.mark.parametrize(
    ("findings", "area", "expected"),
    [
        # Area alone against a partial-thickness ulcer (depth 2).
        (PARTIAL, 0.0, 2),
        (PARTIAL, 0.99, 2),
        (PARTIAL, 1.0, 2),
        (PARTIAL, 2.0, 2),
        (PARTIAL, 2.01, 3),  # "Combined area of ulcers >2 cm"
        # A full-thickness ulcer is 3 whatever its size.
        (FULL, 0.2, 3),
        (FULL, 1.5, 3),
        (FULL, 30.0, 3),
        # Deep tissue damage or necrosis in an ulcer: 4, any size.
        (Findings(ulceration="full_thickness", deep_tissue_damage=True), 0.5, 4),
        (Findings(ulceration="partial_thickness", necrosis=True), 0.5, 4),
        (Findings(deep_tissue_damage=True), None, 4),
    ],
)
def test_grade_is_the_higher_of_area_and_depth(
    findings: Findings, area: float | None, expected: int
) -> None:
    grade = grade_skin_ulceration(findings, area)
    assert grade is not None
    assert grade.value == expected
    assert grade.scale == SCALE
    assert all(r.grade == expected for r in grade.reasons)


def test_area_bands_quote_the_criterion() -> None:
    # Depth 2 (partial thickness) ties with the 1-2 cm band: both are reasons.
    grade = grade_skin_ulceration(PARTIAL, 1.5)
    assert grade is not None
    assert [(r.finding, r.value, r.criterion) for r in grade.reasons] == [
        (
            "ulceration",
            "partial_thickness",
            "partial thickness skin loss involving skin or subcutaneous fat",
        ),
        ("area_cm2", "1.5", "Combined area of ulcers 1 - 2 cm"),
    ]
    big = grade_skin_ulceration(PARTIAL, 3.14159)
    assert big is not None
    assert [(r.finding, r.value, r.criterion) for r in big.reasons] == [
        ("area_cm2", "3.14159", "Combined area of ulcers >2 cm")
    ]


def test_area_below_one_is_grade_1_when_nothing_deeper_is_recorded() -> None:
    # Only a small area can meet grade 1: every recorded ulcer has a depth of
    # at least partial thickness (2), so grade 1 never wins on its own here;
    # the area reason is then not listed.
    grade = grade_skin_ulceration(PARTIAL, 0.5)
    assert grade is not None and grade.value == 2
    assert [r.finding for r in grade.reasons] == ["ulceration"]


def test_seed_ulcer_is_grade_3_full_thickness_over_2_cm2() -> None:
    grade = grade_skin_ulceration(FULL, math.pi)
    assert grade is not None
    assert grade.value == 3
    assert {r.finding for r in grade.reasons} == {"ulceration", "area_cm2"}
    assert grade.to_dict()["value"] == 3


def test_area_not_measured_is_said() -> None:
    grade = grade_skin_ulceration(FULL, None)
    assert grade is not None and grade.value == 3
    assert grade.reasons[-1].finding == "area_cm2"
    assert grade.reasons[-1].value == "not measured"
    assert "depth of tissue loss alone" in grade.reasons[-1].criterion


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_bad_area_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^area_cm2:"):
        grade_skin_ulceration(FULL, bad)


@given(
    depth=st.sampled_from(ULCERATION[1:]),
    deep=st.booleans(),
    small=st.floats(min_value=0, max_value=50),
    large=st.floats(min_value=0, max_value=50),
)
def test_a_larger_or_deeper_ulcer_never_grades_lower(
    depth: str, deep: bool, small: float, large: float
) -> None:
    small, large = sorted((small, large))
    findings = Findings(ulceration=depth, deep_tissue_damage=deep)
    a = grade_skin_ulceration(findings, small)
    b = grade_skin_ulceration(findings, large)
    deeper = grade_skin_ulceration(
        Findings(ulceration="full_thickness", deep_tissue_damage=deep), small
    )
    assert a is not None and b is not None and deeper is not None
    assert 1 <= a.value <= b.value <= 4
    assert deeper.value >= a.value


def test_every_reason_is_quoted_in_full() -> None:
    full = grade_skin_ulceration(FULL, None)
    assert full is not None
    assert [r.to_dict() for r in full.reasons] == [
        {
            "finding": "ulceration",
            "value": "full_thickness",
            "grade": 3,
            "criterion": "full-thickness skin loss involving damage to or necrosis of"
            " subcutaneous tissue that may extend down to fascia",
        },
        {
            "finding": "area_cm2",
            "value": "not measured",
            "grade": 3,
            "criterion": "graded on the depth of tissue loss alone",
        },
    ]
    deep = grade_skin_ulceration(Findings(deep_tissue_damage=True, necrosis=True), 0.5)
    assert deep is not None
    deep_text = (
        "Any size ulcer with extensive destruction, tissue necrosis, or damage to muscle,"
        " bone, or supporting structures"
    )
    assert [r.to_dict() for r in deep.reasons] == [
        {"finding": "deep_tissue_damage", "value": "true", "grade": 4, "criterion": deep_text},
        {"finding": "necrosis", "value": "true", "grade": 4, "criterion": deep_text},
    ]


def test_an_area_of_exactly_1_cm2_is_in_the_1_to_2_band() -> None:
    grade = grade_skin_ulceration(PARTIAL, 1.0)
    assert grade is not None
    assert ("area_cm2", "1", 2, "Combined area of ulcers 1 - 2 cm") in [
        (r.finding, r.value, r.grade, r.criterion) for r in grade.reasons
    ]
