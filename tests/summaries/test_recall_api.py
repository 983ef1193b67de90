"""Radiation recall in the trajectory: CTCAE v5.0 "Radiation recall reaction
(dermatologic)", flagged when dermatitis begins in the irradiated field after
the course ended while the patient is on systemic therapy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.summaries import helpers as h

TODAY = datetime.now(UTC).date()
COURSE_START = TODAY - timedelta(days=120)
COURSE_END = TODAY - timedelta(days=90)


def _wound_after_course(app, clinic, *, onset, on_therapy: bool):
    pid = h.patient(app, clinic)
    cid = h.course(
        app, clinic, pid, start=COURSE_START, end=COURSE_END, phases=[("imrt", 200.0, 20)]
    )
    if on_therapy:
        h.add(app, h.anlotinib(clinic, pid, COURSE_END + timedelta(days=10)))
    return h.wound(
        app,
        clinic,
        pid,
        onset_date=onset,
        radiotherapy_course_id=cid,
        etiology="radiation_dermatitis",
    )


def test_dermatitis_after_the_course_on_anlotinib_is_a_recall(app, clinic, nurse):
    onset = COURSE_END + timedelta(days=40)
    wid = _wound_after_course(app, clinic, onset=onset, on_therapy=True)
    h.assess(nurse, wid, h.at(onset), area_cm2=4.0, findings={"erythema": "brisk"})
    h.assess(
        nurse,
        wid,
        h.at(onset + timedelta(days=7)),
        area_cm2=3.0,
        findings={"desquamation": "moist", "moist_beyond_skin_folds": True},
    )
    h.assess(nurse, wid, h.at(onset + timedelta(days=14)), area_cm2=1.0, findings={})
    recall = nurse.get(f"/api/v1/wounds/{wid}/trajectory").json["radiation_recall"]
    assert recall["flagged"] is True
    assert recall["term"] == "Radiation recall reaction (dermatologic)"
    assert recall["reasons"] == [
        f"began on {onset.isoformat()}, 40 days after the radiotherapy course ended"
        f" ({COURSE_END.isoformat()}), in its field",
        "while on systemic therapy: anlotinib",
    ]
    # Graded by the recall term's criteria (those of Dermatitis radiation).
    assert (recall["grade"], recall["worst_grade"]) == (0, 3)


def test_no_recall_without_systemic_therapy_or_during_the_course(app, clinic, nurse):
    onset = COURSE_END + timedelta(days=40)
    off_drug = _wound_after_course(app, clinic, onset=onset, on_therapy=False)
    h.assess(nurse, off_drug, h.at(onset), area_cm2=4.0, findings={"erythema": "brisk"})
    recall = nurse.get(f"/api/v1/wounds/{off_drug}/trajectory").json["radiation_recall"]
    assert recall["flagged"] is False and recall["grade"] is None
    assert "no systemic therapy was in course that day" in recall["reasons"]

    during = _wound_after_course(app, clinic, onset=COURSE_END - timedelta(days=5), on_therapy=True)
    recall = nurse.get(f"/api/v1/wounds/{during}/trajectory").json["radiation_recall"]
    assert recall["flagged"] is False
    assert "during or on the last day of the course" in recall["reasons"][0]


def test_no_recall_block_without_a_linked_course(app, clinic, nurse):
    pid = h.patient(app, clinic)
    wid = h.wound(app, clinic, pid, onset_date=TODAY - timedelta(days=3))
    assert nurse.get(f"/api/v1/wounds/{wid}/trajectory").json["radiation_recall"] is None
