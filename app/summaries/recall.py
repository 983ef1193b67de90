"""A wound's radiation recall flag for its trajectory: CTCAE v5.0 "Radiation
recall reaction (dermatologic)" (app/clinical/late_effects.py decides; the
course's dates come with the wound, the systemic therapy from app.therapy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.clinical import late_effects
from app.therapy.context import schedules_on


def recall_block(
    session: Session,
    wound: Any,
    phases: Sequence[Any],
    fractions: Sequence[Any],
    ctcae_grades: Callable[[], list[int]],
) -> dict[str, Any] | None:
    """``{flagged, term, reasons, grade, worst_grade}`` for a wound linked to a
    live radiotherapy course (None otherwise: no irradiated field is known).

    ``wound`` is the trajectory's wound row, ``phases``/``fractions`` its
    course's, ``ctcae_grades`` gives the effective CTCAE grades of its
    assessments in time order (asked only for a flagged wound). The grade of a
    recall is the CTCAE grade of the same findings, the recall term's criteria
    being those of "Dermatitis radiation": ``grade`` is the latest effective one
    and ``worst_grade`` the worst; both None when not flagged.
    """
    if wound["course_start"] is None:
        return None
    end = late_effects.course_end(
        wound["course_end"],
        last_logged=max((f["delivered_on"] for f in fractions), default=None),
        logged=len(fractions),
        planned=sum(p["fractions"] for p in phases),
    )
    therapies = schedules_on(session, wound["patient_id"], wound["onset_date"])
    recall = late_effects.radiation_recall(wound["onset_date"], end, therapies)
    graded = ctcae_grades() if recall.flagged else []
    block = recall.to_dict()
    block["grade"] = graded[-1] if graded else None
    block["worst_grade"] = max(graded) if graded else None
    return block
