"""Acute or late, the RTOG/EORTC late scale (skin, subcutaneous tissue), radiation recall."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clinical.grading import ATROPHY, EPILATION, FIBROSIS, TELANGIECTASIA, ULCERATION, Findings
from app.clinical.late_effects import (
    ACUTE,
    LATE,
    RECALL_TERM,
    course_end,
    grade_rtog_late,
    radiation_phase,
    radiation_recall,
)
from app.clinical.therapy import Change, Schedule

START = date(2025, 1, 6)
END = date(2025, 1, 22)


# --- acute or late -----------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "phase", "days"),
    [
        (START, ACUTE, -16),  # first day of the course
        (END - timedelta(days=1), ACUTE, -1),
        (END, ACUTE, 0),
        (END + timedelta(days=90), ACUTE, 90),  # 90 days after: still acute
        (END + timedelta(days=91), LATE, 91),  # more than 90: late
        (END + timedelta(days=400), LATE, 400),
    ],
)
def test_phase_counts_days_from_the_course_end(on: date, phase: str, days: int) -> None:
    got = radiation_phase(on, START, END)
    assert (got.phase, got.days_after_course) == (phase, days)
    assert got.to_dict() == {"phase": phase, "days_after_course": days, "note": got.note}


def test_phase_notes_say_why() -> None:
    assert (
        radiation_phase(END, START, END).note == "0 days after the course ended: 90 or fewer, acute"
    )
    assert radiation_phase(START, START, END).note == "during the radiotherapy course: acute"
    late = radiation_phase(END + timedelta(days=91), START, END)
    assert late.note == "91 days after the course ended: more than 90, late"


def test_no_phase_without_a_course_or_before_it() -> None:
    none = radiation_phase(END, None, None)
    assert (none.phase, none.days_after_course) == (None, None)
    assert "no radiotherapy course" in none.note
    before = radiation_phase(START - timedelta(days=1), START, END)
    assert (before.phase, before.days_after_course) == (None, None)
    assert before.note == "before the radiotherapy course began"


def test_end_unknown_is_acute_only_within_90_days_of_the_start() -> None:
    within = radiation_phase(START + timedelta(days=90), START, None)
    assert (within.phase, within.days_after_course) == (ACUTE, None)
    assert "90 days after the course began" in within.note
    beyond = radiation_phase(START + timedelta(days=91), START, None)
    assert (beyond.phase, beyond.days_after_course) == (None, None)
    assert "end is not known" in beyond.note


def test_end_without_a_start_still_decides() -> None:
    assert radiation_phase(END + timedelta(days=91), None, END).phase == LATE


def test_course_end_is_the_end_date_else_a_complete_log() -> None:
    last = date(2025, 1, 24)
    assert course_end(END, last_logged=last, logged=3, planned=13) == END
    assert course_end(None, last_logged=last, logged=13, planned=13) == last
    assert course_end(None, last_logged=last, logged=14, planned=13) == last
    # Log incomplete: no schedule is assumed for the fractions still to come.
    assert course_end(None, last_logged=last, logged=12, planned=13) is None
    assert course_end(None, last_logged=None, logged=0, planned=13) is None
    # No plan recorded: a log cannot be known complete.
    assert course_end(None, last_logged=last, logged=3, planned=0) is None


# --- RTOG/EORTC late scale --------------------------------------------------------

# Written from the scale text (Cox 1995, late skin / subcutaneous tissue).
LATE_LEVELS: list[tuple[str, Any, int, str]] = [
    ("atrophy", "slight", 1, "Skin: Slight atrophy"),
    ("pigmentation_change", True, 1, "Skin: pigmentation change"),
    ("epilation", "partial", 1, "Skin: some hair loss"),
    ("atrophy", "patchy", 2, "Skin: Patchy atrophy"),
    ("telangiectasia", "moderate", 2, "Skin: moderate telangiectasia"),
    ("epilation", "total", 2, "Skin: total hair loss"),
    ("atrophy", "marked", 3, "Skin: Marked atrophy"),
    ("telangiectasia", "gross", 3, "Skin: gross telangiectasia"),
    ("ulceration", "partial_thickness", 4, "Skin: Ulceration"),
    ("ulceration", "full_thickness", 4, "Skin: Ulceration"),
    ("deep_tissue_damage", True, 4, "Skin: Ulceration"),
    (
        "fibrosis",
        "slight",
        1,
        "Subcutaneous tissue: Slight induration (fibrosis) and loss of subcutaneous fat",
    ),
    (
        "fibrosis",
        "moderate",
        2,
        "Subcutaneous tissue: Moderate fibrosis but asymptomatic; slight field contracture;"
        " <10% linear reduction",
    ),
    (
        "fibrosis",
        "severe",
        3,
        "Subcutaneous tissue: Severe induration and loss of subcutaneous tissue; field"
        " contracture >10% linear measurement",
    ),
    ("necrosis", True, 4, "Subcutaneous tissue: Necrosis"),
]


@pytest.mark.parametrize(("finding", "value", "grade", "criterion"), LATE_LEVELS)
def test_each_late_finding_meets_its_level(
    finding: str, value: Any, grade: int, criterion: str
) -> None:
    got = grade_rtog_late(Findings(**{finding: value}))
    assert got.value == grade
    assert got.scale == "rtog_late"
    expected = "true" if value is True else value
    assert [(r.finding, r.value, r.grade, r.criterion) for r in got.reasons] == [
        (finding, expected, grade, criterion)
    ]


def test_acute_findings_set_no_late_level() -> None:
    acute = Findings(
        erythema="brisk",
        erythema_tender=True,
        desquamation="moist",
        edema="pitting",
        bleeding="spontaneous",
        decreased_sweating=True,
        skin_graft_indicated=True,
    )
    assert grade_rtog_late(acute).to_dict() == {"value": 0, "reasons": []}


def test_late_grade_is_the_worse_tissue_with_both_reasons_on_a_tie() -> None:
    got = grade_rtog_late(Findings(atrophy="marked", fibrosis="severe", telangiectasia="moderate"))
    assert got.value == 3
    assert [r.finding for r in got.reasons] == ["atrophy", "fibrosis"]


LATE_ORDERED: dict[str, tuple[Any, ...]] = {
    "atrophy": ATROPHY,
    "telangiectasia": TELANGIECTASIA,
    "fibrosis": FIBROSIS,
    "epilation": EPILATION,
    "ulceration": ULCERATION,
    "pigmentation_change": (False, True),
    "deep_tissue_damage": (False, True),
    "necrosis": (False, True),
}
late_findings = st.builds(
    Findings, **{name: st.sampled_from(values) for name, values in LATE_ORDERED.items()}
)


@given(findings=late_findings, field=st.sampled_from(list(LATE_ORDERED)))
def test_a_worse_late_finding_never_lowers_the_late_grade(findings: Findings, field: str) -> None:
    values = LATE_ORDERED[field]
    worse = replace(findings, **{field: values[-1]})
    before, after = grade_rtog_late(findings), grade_rtog_late(worse)
    assert 0 <= before.value <= after.value <= 4
    assert bool(after.reasons) == (after.value > 0)


# --- radiation recall ------------------------------------------------------------------

ANLOTINIB = Schedule(start_date=date(2025, 2, 1), stop_date=None, days_on=14, days_off=7, dose=12)


def test_recall_flagged_after_the_course_while_on_systemic_therapy() -> None:
    onset = date(2025, 3, 1)  # cycle 2, day 8: on drug
    got = radiation_recall(onset, END, [("anlotinib", ANLOTINIB)])
    assert got.flagged is True
    assert got.reasons == (
        "began on 2025-03-01, 38 days after the radiotherapy course ended (2025-01-22),"
        " in its field",
        "while on systemic therapy: anlotinib",
    )
    assert got.to_dict()["term"] == RECALL_TERM == "Radiation recall reaction (dermatologic)"


def test_recall_counts_an_off_week_of_an_intermittent_schedule() -> None:
    off_week = date(2025, 2, 17)  # day 17 of the 21-day cycle: off drug, still in course
    assert radiation_recall(off_week, END, [("anlotinib", ANLOTINIB)]).flagged is True


@pytest.mark.parametrize(
    ("onset", "end", "therapies", "why"),
    [
        (date(2025, 1, 20), END, [("anlotinib", ANLOTINIB)], "during or on the last day"),
        (END, END, [("anlotinib", ANLOTINIB)], "during or on the last day"),
        (date(2025, 1, 30), END, [("anlotinib", ANLOTINIB)], "no systemic therapy"),
        (date(2025, 3, 1), END, [], "no systemic therapy"),
        (date(2025, 3, 1), None, [("anlotinib", ANLOTINIB)], "end is not known"),
        (
            date(2025, 3, 1),
            END,
            [("capecitabine", replace(ANLOTINIB, stop_date=date(2025, 2, 20)))],
            "no systemic therapy",
        ),
        (
            date(2025, 3, 1),
            END,
            [("anlotinib", replace(ANLOTINIB, changes=(Change(date(2025, 2, 25), "stopped"),)))],
            "no systemic therapy",
        ),
    ],
)
def test_recall_not_flagged(onset: date, end: date | None, therapies: list[Any], why: str) -> None:
    got = radiation_recall(onset, end, therapies)
    assert got.flagged is False
    assert why in " ".join(got.reasons)


def test_recall_names_every_agent_in_course() -> None:
    both = [("sunitinib", ANLOTINIB), ("anlotinib", ANLOTINIB)]
    got = radiation_recall(date(2025, 3, 1), END, both)
    assert got.reasons[-1] == "while on systemic therapy: anlotinib, sunitinib"


def test_unknown_phase_notes_in_full() -> None:
    assert radiation_phase(END, None, None).note == "no radiotherapy course is linked to the wound"
    assert (
        radiation_phase(START + timedelta(days=91), START, None).note
        == "the course's end is not known (no end date, fraction log incomplete)"
    )


def test_a_one_fraction_course_ends_on_its_logged_fraction() -> None:
    day = date(2025, 1, 6)
    assert course_end(None, last_logged=day, logged=1, planned=1) == day


def test_recall_to_dict_and_its_reasons_in_full() -> None:
    got = radiation_recall(date(2025, 3, 1), None, [])
    assert got.to_dict() == {
        "flagged": False,
        "term": "Radiation recall reaction (dermatologic)",
        "reasons": ["the course's end is not known"],
    }
    none = radiation_recall(date(2025, 3, 1), END, [])
    assert none.reasons[-1] == "no systemic therapy was in course that day"


def test_recall_counts_the_therapys_first_and_last_day() -> None:
    course = replace(ANLOTINIB, stop_date=date(2025, 3, 1))
    assert radiation_recall(date(2025, 2, 1), END, [("anlotinib", course)]).flagged is True
    assert radiation_recall(date(2025, 3, 1), END, [("anlotinib", course)]).flagged is True
    assert radiation_recall(date(2025, 3, 2), END, [("anlotinib", course)]).flagged is False
