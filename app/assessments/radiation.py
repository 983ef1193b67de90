"""The derived values of an assessment that read beyond its dermatitis grades:
CTCAE v5.0 "Skin ulceration", the acute/late phase against the wound's
radiotherapy course, and the RTOG/EORTC late grade of a late assessment.

``derive`` (app/assessments/services.py) calls ``radiation_columns`` with the
findings and area it has already checked; the rules are app/clinical's
(ulceration.py, late_effects.py), the course's dates the wound's facts row
(app/radiotherapy/timing.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.clinical import late_effects, ulceration
from app.clinical.grading import Findings
from app.radiotherapy.timing import course_window

RADIATION_COLUMNS: tuple[str, ...] = (
    "ctcae_ulcer_grade",
    "ctcae_ulcer_reasons",
    "rt_phase",
    "days_after_rt",
    "rt_phase_note",
    "rtog_late_grade",
    "rtog_late_reasons",
)


def _utc_date(at: datetime) -> Any:
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).date()


def radiation_columns(
    findings: Findings, area_cm2: float | None, assessed_at: datetime, wound: Any
) -> dict[str, Any]:
    """Values of RADIATION_COLUMNS for an assessment at ``assessed_at`` (its UTC
    date) of ``wound`` (a row with the radiotherapy timing columns).

    The late grade is given for a late assessment only (more than 90 days after
    the course ended); on an acute one, or with no phase, it is None.
    ValueError (field named) from the engine.
    """
    ulcer = ulceration.grade_skin_ulceration(findings, area_cm2)
    start, end = course_window(wound)
    phase = late_effects.radiation_phase(_utc_date(assessed_at), start, end)
    late = (
        late_effects.grade_rtog_late(findings).to_dict()
        if phase.phase == late_effects.LATE
        else None
    )
    ulcer_dict = ulcer.to_dict() if ulcer is not None else None
    return {
        "ctcae_ulcer_grade": ulcer_dict["value"] if ulcer_dict else None,
        "ctcae_ulcer_reasons": ulcer_dict["reasons"] if ulcer_dict else None,
        "rt_phase": phase.phase,
        "days_after_rt": phase.days_after_course,
        "rt_phase_note": phase.note,
        "rtog_late_grade": late["value"] if late else None,
        "rtog_late_reasons": late["reasons"] if late else None,
    }
