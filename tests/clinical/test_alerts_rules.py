"""The alert rules of app/clinical/alerts.py: each threshold at and beside its edge."""

from __future__ import annotations

from datetime import date

import pytest

from app.clinical import alerts as r

RULES = r.AlertRules()


def test_defaults_and_their_ranges():
    assert (RULES.grade_threshold, RULES.lab_grade_threshold, RULES.infection_min_signs) == (
        3,
        3,
        3,
    )
    assert RULES.overdue_days == 7 and RULES.par_threshold_pct == 40.0 and RULES.par_week == 4
    for bad in (
        {"grade_threshold": 0},
        {"grade_threshold": 6},
        {"lab_grade_threshold": 0},
        {"lab_grade_threshold": 5},
        {"infection_min_signs": 0},
        {"overdue_days": 0},
    ):
        with pytest.raises(ValueError):
            r.AlertRules(**bad)
    # the edges themselves are accepted
    r.AlertRules(grade_threshold=1, lab_grade_threshold=1, infection_min_signs=1, overdue_days=1)
    r.AlertRules(grade_threshold=5, lab_grade_threshold=4)


def test_week4_missed_below_threshold_only():
    assert not r.week4_missed(None, RULES).active
    assert not r.week4_missed(40.0, RULES).active  # exactly the threshold is met
    d = r.week4_missed(39.9, RULES)
    assert d.active and d.kind == "week4_missed"
    assert d.figures == {"par_week4_pct": 39.9, "threshold_pct": 40.0}
    assert "39.9%" in d.rule and "40%" in d.rule and "week 4" in d.rule


def test_deteriorating_follows_the_trajectory_status():
    assert not r.deteriorating("stalled", "x").active
    d = r.deteriorating("deteriorating", "area rose 20%")
    assert d.active and d.rule == "area rose 20%"


def test_recurrence_needs_a_closure_then_an_open_latest():
    assert not r.recurrence([], False).active
    assert not r.recurrence([True], False).active
    assert not r.recurrence([False, False], False).active
    assert not r.recurrence([False, True], False).active  # closed now
    assert not r.recurrence([True, False], True).active  # recorded healed
    d = r.recurrence([False, True, False], False)
    assert d.active and d.figures == {"closed_at_index": 1, "assessments": 3}


def test_grade_from_threshold_and_grade_4_is_severe():
    assert not r.grade(None, RULES).active
    assert not r.grade(2, RULES).active
    three = r.grade(3, RULES)
    assert three.active
    assert three.figures == {"grade": 3, "scale": "ctcae", "threshold": 3, "severe": False}
    assert three.rule.startswith("CTCAE v5.0 grade 3")
    rtog = r.grade(3, RULES, "rtog")
    assert rtog.figures["scale"] == "rtog" and rtog.rule.startswith("RTOG acute grade 3")
    assert r.grade(4, RULES).figures["severe"] is True
    assert r.grade(2, r.AlertRules(grade_threshold=2)).active


def test_overdue_counts_days_after_the_interval():
    onset = date(2026, 1, 1)
    assert not r.overdue(date(2026, 1, 10), onset, date(2026, 1, 17), RULES).active  # 7 days
    d = r.overdue(date(2026, 1, 10), onset, date(2026, 1, 18), RULES)
    assert d.active and d.figures["days_since"] == 8 and "last assessment" in d.rule
    never = r.overdue(None, onset, date(2026, 1, 9), RULES)
    assert never.active and never.figures["since"] == "2026-01-01" and "never" in never.rule
    assert not r.overdue(None, onset, date(2026, 1, 8), RULES).active


def test_lab_grade_during_therapy_only():
    assert not r.lab({}, RULES).active
    assert not r.lab({"neutrophils": (3, False)}, RULES).active  # off therapy
    assert not r.lab({"neutrophils": (2, True)}, RULES).active
    assert not r.lab({"neutrophils": (None, True)}, RULES).active
    assert not r.lab({"albumin": (3, True)}, RULES).active  # not a lab of this rule
    d = r.lab({"platelets": (4, True), "hemoglobin": (3, True), "neutrophils": (1, True)}, RULES)
    assert d.active and d.figures == {"grades": {"hemoglobin": 3, "platelets": 4}}
    assert "hemoglobin grade 3, platelets grade 4" in d.rule


def test_infection_three_of_either_list():
    assert not r.infection({}, RULES).active
    two = {"non_healing": True, "debris": True, "temperature": None}
    assert not r.infection(two, RULES).active
    nerds = r.infection({**two, "smell": True}, RULES)
    assert nerds.active and nerds.figures["nerds"] == ["non_healing", "debris", "smell"]
    assert "3 NERDS" in nerds.rule and "STONEES" not in nerds.rule
    stonees = r.infection(
        {"size_bigger": True, "probes_to_bone": True, "erythema_edema": True}, RULES
    )
    assert stonees.active and "3 STONEES" in stonees.rule and "NERDS" not in stonees.rule
    both = r.infection({"exudate": True, "smell": True, "debris": True, "temperature": True}, RULES)
    assert "3 NERDS" in both.rule and "3 STONEES" in both.rule
    assert not r.infection({"exudate": False, "smell": True, "debris": True}, RULES).active
    assert set(r.INFECTION_SIGNS) == set(r.NERDS) | set(r.STONEES)
    assert len(r.INFECTION_SIGNS) == 10


def test_change_decides_open_resolve_escalate_keep():
    on, off = r.grade(3, RULES), r.grade(None, RULES)
    assert r.change(on, None) == "open"
    assert r.change(off, None) == "keep"
    assert r.change(off, {"grade": 3}) == "resolve"
    assert r.change(on, on.figures) == "keep"
    four = r.grade(4, RULES)
    assert r.change(four, on.figures) == "escalate"
    assert r.change(four, four.figures) == "keep"
    assert r.change(on, four.figures) == "keep"  # back to 3 while the grade-4 alert stands
    other = r.infection({"exudate": True, "smell": True, "debris": True}, RULES)
    assert r.change(other, other.figures) == "keep"
