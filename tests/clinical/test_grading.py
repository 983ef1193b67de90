"""Grading radiation dermatitis from findings: CTCAE v5.0 and RTOG (Cox 1995)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clinical.grading import (
    ATROPHY,
    BLEEDING,
    DESQUAMATION,
    EDEMA,
    EPILATION,
    ERYTHEMA,
    FIBROSIS,
    TELANGIECTASIA,
    ULCERATION,
    Findings,
    Grade,
    Reason,
    grade_ctcae,
    grade_rtog,
)

# Expected level of each single finding, written from the scale texts in
# docs/clinical-reference.md, independently of the module's tables.
# (finding, value, in_skin_fold, ctcae, rtog)
SINGLE_FINDINGS = [
    ("erythema", "faint", False, 1, 1),
    ("erythema", "follicular", False, 1, 1),  # RTOG "Follicular, faint or dull"
    ("erythema", "dull", False, 1, 1),
    ("erythema", "moderate", False, 2, 2),
    ("erythema", "bright", False, 2, 2),  # RTOG "Tender or bright"; CTCAE "brisk"
    ("erythema", "brisk", False, 2, 2),
    ("epilation", "partial", False, 0, 1),  # RTOG 1 "epilation"; CTCAE: other term
    ("epilation", "total", False, 0, 1),
    ("decreased_sweating", True, False, 0, 1),  # RTOG 1 "decreased sweating"
    ("erythema_tender", True, False, 0, 0),  # tenderness without erythema: nothing
    ("desquamation", "dry", False, 1, 1),
    ("desquamation", "dry", True, 1, 1),
    ("desquamation", "moist", True, 2, 2),  # confined to a fold: patchy moist
    ("desquamation", "moist", False, 3, 3),  # not in a fold: other than skin folds
    ("edema", "moderate", False, 2, 2),
    ("edema", "pitting", False, 2, 3),  # CTCAE lists only moderate edema
    ("bleeding", "minor_trauma", False, 3, 0),  # not hemorrhage on RTOG
    ("bleeding", "spontaneous", False, 4, 4),
    ("ulceration", "partial_thickness", True, 2, 4),  # CTCAE: as moist desquamation
    ("ulceration", "partial_thickness", False, 3, 4),
    ("ulceration", "full_thickness", True, 4, 4),
    ("ulceration", "full_thickness", False, 4, 4),
    ("deep_tissue_damage", True, False, 4, 4),
    ("necrosis", True, False, 4, 4),
    ("skin_graft_indicated", True, False, 4, 0),
    ("life_threatening", True, False, 4, 0),
    # Late findings set no acute level (app/clinical/late_effects.py grades them).
    ("atrophy", "marked", False, 0, 0),
    ("telangiectasia", "gross", False, 0, 0),
    ("pigmentation_change", True, False, 0, 0),
    ("fibrosis", "severe", False, 0, 0),
]


@pytest.mark.parametrize(("finding", "value", "in_fold", "ctcae", "rtog"), SINGLE_FINDINGS)
def test_each_finding_alone_meets_its_level(
    finding: str, value: Any, in_fold: bool, ctcae: int, rtog: int
) -> None:
    findings = Findings(**{finding: value})
    c = grade_ctcae(findings, in_skin_fold=in_fold)
    r = grade_rtog(findings, in_skin_fold=in_fold)
    assert (c.value, r.value) == (ctcae, rtog)
    assert c.scale == "ctcae"
    assert r.scale == "rtog"
    expected_value = "true" if value is True else value
    for grade, level in ((c, ctcae), (r, rtog)):
        if level:
            assert [(x.finding, x.value, x.grade) for x in grade.reasons] == [
                (finding, expected_value, level)
            ]
        else:
            assert grade.reasons == ()


@pytest.mark.parametrize("erythema", ["faint", "follicular", "dull"])
def test_tender_erythema_is_rtog_2_and_no_ctcae_criterion(erythema: str) -> None:
    findings = Findings(erythema=erythema, erythema_tender=True)
    rtog = grade_rtog(findings, in_skin_fold=False)
    assert rtog.value == 2
    assert [(r.finding, r.criterion) for r in rtog.reasons] == [
        ("erythema_tender", "Tender or bright erythema")
    ]
    assert grade_ctcae(findings, in_skin_fold=False).value == 1


def test_rtog_grade_1_quotes_epilation_and_sweating() -> None:
    findings = Findings(epilation="total", decreased_sweating=True, desquamation="dry")
    rtog = grade_rtog(findings, in_skin_fold=False)
    assert rtog.value == 1
    assert [r.criterion for r in rtog.reasons] == [
        "dry desquamation",
        "epilation",
        "decreased sweating",
    ]


def test_no_findings_is_grade_zero_with_no_reasons() -> None:
    for in_fold in (True, False):
        for grade in (
            grade_ctcae(Findings(), in_skin_fold=in_fold),
            grade_rtog(Findings(), in_skin_fold=in_fold),
        ):
            assert grade.value == 0
            assert grade.to_dict() == {"value": 0, "reasons": []}


def test_moist_in_a_fold_that_spreads_beyond_it_is_grade_3() -> None:
    findings = Findings(desquamation="moist", moist_beyond_skin_folds=True)
    c = grade_ctcae(findings, in_skin_fold=True)
    r = grade_rtog(findings, in_skin_fold=True)
    assert c.value == 3
    assert c.reasons[0].criterion == (
        "Moist desquamation in areas other than skin folds and creases"
    )
    assert r.value == 3
    assert r.reasons[0].criterion == "Confluent, moist desquamation other than skin folds"


def test_moist_confined_to_fold_quotes_the_fold_criterion() -> None:
    c = grade_ctcae(Findings(desquamation="moist"), in_skin_fold=True)
    assert c.reasons == (
        Reason(
            finding="desquamation",
            value="moist",
            grade=2,
            criterion="patchy moist desquamation, mostly confined to skin folds and creases",
        ),
    )


def test_moist_beyond_folds_flag_alone_sets_nothing() -> None:
    # It qualifies moist skin; with no moist skin there is nothing to grade.
    findings = Findings(moist_beyond_skin_folds=True)
    assert grade_ctcae(findings, in_skin_fold=True).value == 0
    assert grade_rtog(findings, in_skin_fold=False).value == 0


def test_seed_case_fold_ulcer() -> None:
    # Popliteal fossa (a skin fold), 2 x 2 cm ulcer with exudate.
    partial = Findings(erythema="brisk", desquamation="moist", ulceration="partial_thickness")
    assert grade_ctcae(partial, in_skin_fold=True).value == 2
    assert grade_rtog(partial, in_skin_fold=True).value == 4
    full = replace(partial, ulceration="full_thickness")
    c = grade_ctcae(full, in_skin_fold=True)
    assert c.value == 4
    assert c.to_dict() == {
        "value": 4,
        "reasons": [
            {
                "finding": "ulceration",
                "value": "full_thickness",
                "grade": 4,
                "criterion": "skin necrosis or ulceration of full thickness dermis",
            }
        ],
    }


def test_reasons_list_every_finding_at_the_final_level_only() -> None:
    findings = Findings(
        erythema="faint", edema="moderate", desquamation="moist", bleeding="minor_trauma"
    )
    c = grade_ctcae(findings, in_skin_fold=False)
    assert c.value == 3
    assert [x.finding for x in c.reasons] == ["desquamation", "bleeding"]
    r = grade_rtog(findings, in_skin_fold=False)
    assert r.value == 3
    assert [x.finding for x in r.reasons] == ["desquamation"]
    everything = Findings(
        ulceration="full_thickness",
        necrosis=True,
        bleeding="spontaneous",
        skin_graft_indicated=True,
        life_threatening=True,
    )
    c4 = grade_ctcae(everything, in_skin_fold=False)
    assert c4.value == 4
    assert [x.finding for x in c4.reasons] == [
        "bleeding",
        "ulceration",
        "necrosis",
        "skin_graft_indicated",
        "life_threatening",
    ]
    assert [x.finding for x in grade_rtog(everything, in_skin_fold=False).reasons] == [
        "bleeding",
        "ulceration",
        "necrosis",
    ]


def test_grade_five_is_never_derived() -> None:
    worst = Findings(
        erythema="brisk",
        desquamation="moist",
        moist_beyond_skin_folds=True,
        edema="pitting",
        bleeding="spontaneous",
        ulceration="full_thickness",
        necrosis=True,
        skin_graft_indicated=True,
        life_threatening=True,
    )
    assert grade_ctcae(worst, in_skin_fold=False).value == 4
    assert grade_rtog(worst, in_skin_fold=False).value == 4


def test_from_mapping_fills_missing_and_null_with_defaults() -> None:
    assert Findings.from_mapping({}) == Findings()
    got = Findings.from_mapping({"erythema": "brisk", "edema": None, "necrosis": True})
    assert got == Findings(erythema="brisk", necrosis=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"erythema": "severe"}, "erythema"),
        ({"desquamation": "wet"}, "desquamation"),
        ({"edema": "mild"}, "edema"),
        ({"bleeding": "yes"}, "bleeding"),
        ({"ulceration": "deep"}, "ulceration"),
        ({"necrosis": "yes"}, "necrosis"),
        ({"life_threatening": 1}, "life_threatening"),
        ({"erythma": "faint"}, "erythma"),
        ({"epilation": "some"}, "epilation"),
        ({"atrophy": "severe"}, "atrophy"),
        ({"telangiectasia": "slight"}, "telangiectasia"),
        ({"fibrosis": "marked"}, "fibrosis"),
        ({"decreased_sweating": "yes"}, "decreased_sweating"),
        ({"erythema_tender": 1}, "erythema_tender"),
    ],
)
def test_from_mapping_names_the_bad_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        Findings.from_mapping(data)


def test_vocabularies_match_the_api_contract() -> None:
    assert ERYTHEMA == ("none", "faint", "follicular", "dull", "moderate", "bright", "brisk")
    assert EPILATION == ("none", "partial", "total")
    assert ATROPHY == ("none", "slight", "patchy", "marked")
    assert TELANGIECTASIA == ("none", "moderate", "gross")
    assert FIBROSIS == ("none", "slight", "moderate", "severe")
    assert DESQUAMATION == ("none", "dry", "moist")
    assert EDEMA == ("none", "moderate", "pitting")
    assert BLEEDING == ("none", "minor_trauma", "spontaneous")
    assert ULCERATION == ("none", "partial_thickness", "full_thickness")


# --- property: a worse finding never lowers a grade -------------------------

ORDERED: dict[str, tuple[Any, ...]] = {
    "erythema": ERYTHEMA,
    "erythema_tender": (False, True),
    "desquamation": DESQUAMATION,
    "moist_beyond_skin_folds": (False, True),
    "edema": EDEMA,
    "bleeding": BLEEDING,
    "ulceration": ULCERATION,
    "deep_tissue_damage": (False, True),
    "necrosis": (False, True),
    "skin_graft_indicated": (False, True),
    "life_threatening": (False, True),
    "epilation": EPILATION,
    "decreased_sweating": (False, True),
    "atrophy": ATROPHY,
    "telangiectasia": TELANGIECTASIA,
    "pigmentation_change": (False, True),
    "fibrosis": FIBROSIS,
}

findings_strategy = st.builds(
    Findings, **{name: st.sampled_from(values) for name, values in ORDERED.items()}
)


def test_every_findings_field_is_covered_by_the_property() -> None:
    assert [f.name for f in fields(Findings)] == list(ORDERED)


@given(
    findings=findings_strategy,
    field=st.sampled_from(list(ORDERED)),
    steps=st.integers(min_value=1, max_value=3),
    in_fold=st.booleans(),
)
def test_worsening_any_finding_never_lowers_either_grade(
    findings: Findings, field: str, steps: int, in_fold: bool
) -> None:
    values = ORDERED[field]
    index = min(values.index(getattr(findings, field)) + steps, len(values) - 1)
    worse = replace(findings, **{field: values[index]})
    for grade in (grade_ctcae, grade_rtog):
        before: Grade = grade(findings, in_skin_fold=in_fold)
        after: Grade = grade(worse, in_skin_fold=in_fold)
        assert after.value >= before.value
        assert 0 <= after.value <= 4
        # The reasons always justify the value.
        assert all(r.grade == after.value for r in after.reasons)
        assert bool(after.reasons) == (after.value > 0)


@given(findings=findings_strategy)
def test_leaving_the_fold_never_lowers_either_grade(findings: Findings) -> None:
    for grade in (grade_ctcae, grade_rtog):
        assert grade(findings, in_skin_fold=False).value >= grade(findings, in_skin_fold=True).value


def test_a_bad_value_lists_the_vocabulary() -> None:
    with pytest.raises(ValueError) as exc:
        Findings(erythema="severe")
    assert str(exc.value) == (
        "erythema: 'severe' is not one of none, faint, follicular, dull, moderate, bright, brisk"
    )
