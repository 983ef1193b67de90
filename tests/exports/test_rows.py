"""The wound row's systemic-therapy columns, from plain schedules (no database)."""

from __future__ import annotations

from datetime import date, timedelta

from app.clinical.therapy import Schedule, on_drug
from app.exports.rows import systemic_exposure

D0 = date(2026, 3, 2)


def _walk(therapies, onset, end):
    """The definition, day by day: what the columns must count."""
    days = [onset + timedelta(days=i) for i in range((end - onset).days + 1)]
    agents = {a for a, _, s in therapies if any(on_drug(s, d) for d in days)}
    anti = {d for d in days for _, is_anti, s in therapies if is_anti and on_drug(s, d)}
    return agents, len(anti)


def test_overlapping_anti_angiogenic_days_count_once_and_the_window_clips():
    anlotinib = Schedule(D0, None, 14, 7, 12.0)  # 2 weeks on, 1 off
    apatinib = Schedule(D0 + timedelta(days=10), D0 + timedelta(days=30), 7, 0, 500.0)
    capecitabine = Schedule(D0, None, 14, 7, 1000.0)  # not anti-angiogenic
    therapies = [
        ("Anlotinib 12 mg", True, anlotinib),
        ("apatinib", True, apatinib),
        ("capecitabine", False, capecitabine),
    ]
    onset, end = D0 + timedelta(days=5), D0 + timedelta(days=40)
    agents, anti_days = systemic_exposure(therapies, onset, end)
    # Anlotinib on days 5-13 and 21-34 (23 days), apatinib 10-30 adds 14-20:
    # 5..34 is 30 days; the walk agrees.
    assert anti_days == 30 == _walk(therapies, onset, end)[1]
    assert agents == "anlotinib;apatinib;other_agent"


def test_a_drug_off_for_the_whole_window_is_not_an_agent():
    stopped = Schedule(D0, D0 + timedelta(days=3), 14, 7, 12.0)
    agents, anti_days = systemic_exposure(
        [("anlotinib", True, stopped)], D0 + timedelta(days=4), D0 + timedelta(days=20)
    )
    assert (agents, anti_days) == ("", 0)


def test_an_empty_window_has_no_exposure():
    s = Schedule(D0, None, 14, 7, 12.0)
    assert systemic_exposure([("anlotinib", True, s)], D0, D0 - timedelta(days=1)) == ("", 0)
