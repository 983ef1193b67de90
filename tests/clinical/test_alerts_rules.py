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


def test_each_off_decision_names_its_rule_and_nothing_else():
    onset = date(2026, 1, 1)
    offs = [
        r.week4_missed(None, RULES),
        r.deteriorating("on_track", "x"),
        r.recurrence([], False),
        r.grade(None, RULES),
        r.overdue(None, onset, onset, RULES),
        r.lab({}, RULES),
        r.infection({}, RULES),
    ]
    assert offs == [r.Decision(kind, False, "", {}) for kind in r.KINDS]
    # never closed: off, by the second way out
    assert r.recurrence([False, False, False], False) == r.Decision("recurrence", False)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"grade_threshold": 0}, "grade_threshold must be 1-5"),
        ({"lab_grade_threshold": 5}, "lab_grade_threshold must be 1-4"),
        ({"infection_min_signs": 0}, "infection_min_signs must be at least 1"),
        ({"overdue_days": 0}, "overdue_days must be at least 1"),
    ],
)
def test_rule_errors_name_the_setting(bad, message):
    with pytest.raises(ValueError, match=message):
        r.AlertRules(**bad)


def test_active_decisions_say_exactly_why():
    assert r.deteriorating("deteriorating", "grew") == r.Decision(
        "deteriorating", True, "grew", {"status": "deteriorating"}
    )
    assert r.recurrence([True, False], False) == r.Decision(
        "recurrence",
        True,
        "the wound was found closed and is open again at the latest assessment",
        {"closed_at_index": 0, "assessments": 2},
    )
    assert r.grade(4, RULES).rule == "CTCAE v5.0 grade 4 radiation dermatitis (alert from grade 3)"
    assert r.week4_missed(12.5, RULES).rule == (
        "PAR at week 4 is 12.5%, below the clinic's 40% threshold"
        " (Sheehan 2003 / Phillips 2000 adapted)"
    )
    d = r.overdue(date(2026, 1, 1), date(2025, 12, 1), date(2026, 1, 12), RULES)
    assert d == r.Decision(
        "overdue",
        True,
        "11 days since the last assessment; the clinic assesses every 7 days",
        {"days_since": 11, "overdue_days": 7, "since": "2026-01-01"},
    )
    assert r.overdue(None, date(2026, 1, 1), date(2026, 1, 9), RULES).rule == (
        "8 days since onset, never assessed; the clinic assesses every 7 days"
    )
    lab = r.lab({"neutrophils": (3, True), "platelets": (3, True)}, RULES)
    assert lab == r.Decision(
        "lab",
        True,
        "CTCAE v5.0 neutrophils grade 3, platelets grade 3 during systemic therapy"
        " (alert from grade 3)",
        {"grades": {"neutrophils": 3, "platelets": 3}},
    )
    assert r.lab({"hemoglobin": (3, True)}, RULES).active
    assert r.lab({"neutrophils": (3, True)}, r.AlertRules(lab_grade_threshold=4)).active is False
    both = r.infection({"exudate": True, "smell": True, "debris": True, "temperature": True}, RULES)
    assert both == r.Decision(
        "infection",
        True,
        "3 NERDS signs (exudate, debris, smell) and 3 STONEES signs (temperature, exudate,"
        " smell) (alert from 3; Sibbald/Woo 2006)",
        {
            "nerds": ["exudate", "debris", "smell"],
            "stonees": ["temperature", "exudate", "smell"],
            "min_signs": 3,
        },
    )
    two_of_each = {
        "non_healing": True,
        "red_friable": True,
        "size_bigger": True,
        "new_breakdown": True,
    }
    assert not r.infection(two_of_each, RULES).active
    assert r.infection(two_of_each, r.AlertRules(infection_min_signs=2)).active
