"""Trajectory statuses for summaries of many wounds (the dashboard, the patient
summary), judged from the few assessments each status depends on, and the
clinic's thresholds they are judged by.

Every clinical number comes from app/clinical/trajectory.py; this module only
chooses what to feed it, so a clinic of thousands of wounds is judged per request.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app

from app.clinical.trajectory import Measurement, Trajectory, TrajectoryRules, compute_trajectory
from app.core.db import naive_as_utc


def trajectory_rules(clinic_par_threshold_pct: float | None) -> TrajectoryRules:
    """Thresholds for compute_trajectory: the clinic's PAR threshold when it set
    one, else PAR_THRESHOLD_PCT; PAR_WEEK and DETERIORATING_MARGIN_PCT from config.
    (No threshold is published for radiation wounds: clinical-reference.md.)"""
    cfg = current_app.config
    return TrajectoryRules(
        par_threshold_pct=float(
            clinic_par_threshold_pct
            if clinic_par_threshold_pct is not None
            else cfg["PAR_THRESHOLD_PCT"]
        ),
        par_week=int(cfg["PAR_WEEK"]),
        deteriorating_margin_pct=float(cfg["DETERIORATING_MARGIN_PCT"]),
    )


@functools.lru_cache(maxsize=64)
def rules_dict(rules: TrajectoryRules) -> dict[str, Any]:
    """``rules.to_dict()``, built once per value: rules are frozen and few (one
    per clinic threshold) and dataclasses.asdict is not cheap. Shared: copy it
    before changing it."""
    return rules.to_dict()


def overdue_days(clinic_days: int | None) -> int:
    """Assessment interval after which a wound is overdue (clinic setting or config)."""
    return int(
        clinic_days if clinic_days is not None else current_app.config["OVERDUE_ASSESSMENT_DAYS"]
    )


def by_wound(rows: Iterable[Any]) -> dict[Any, list[Any]]:
    """Rows whose first column is a wound id, grouped by it (order kept)."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def as_utc(value: Any) -> datetime:
    """assessed_at as fetched without type processing: SQLite's stored text, or
    the driver's datetime (PostgreSQL). Same result as the UTCDateTime column type."""
    if isinstance(value, str):
        return naive_as_utc(datetime.fromisoformat(value))
    return value.astimezone(UTC) if value.tzinfo else naive_as_utc(value)


def _stored(at: datetime, like: Any) -> Any:
    """``at`` (UTC) in the form assessed_at is fetched in (``like``): SQLite's
    text (fixed width, so it sorts as time does; isoformat without "+00:00")
    or the driver's datetime."""
    if isinstance(like, str):
        return at.isoformat(" ", "microseconds")[:-6]
    return at


def _status_indices(instants: list[Any], gone: list[bool], rules: TrajectoryRules) -> list[int]:
    """The assessments that decide compute_trajectory's status, rule, baseline,
    latest, PAR and PAR at week 4 (not its slopes or projection).

    Those read only: the baseline, the previous and the latest assessment
    (deterioration); the assessments either side of the PAR day and of the start
    of the stall window (interpolation); and the trailing run of closed
    assessments with the one before it (healed). Passing just these gives the
    same answer for a fraction of the work, which is what lets the dashboard
    judge thousands of wounds per request; tests/summaries checks the
    equivalence on random series. ``instants`` are assessed_at as fetched, in
    time order (only two are parsed); ``gone`` marks closed or zero-area ones.

    Where an assessment lies exactly on the PAR day or the window start, the
    trajectory's comparison of float days may fall either way (the window
    start is itself a float difference), so the neighbours of such a tie are
    kept too: any superset of the deciding assessments gives the same answer.
    Elsewhere the instants are at least a microsecond from the mark, far more
    than the rounding of days.
    """
    n = len(instants)
    keep = {0, n - 2, n - 1}
    origin, latest = as_utc(instants[0]), as_utc(instants[-1])
    for target in (
        origin + timedelta(days=rules.par_day),
        latest - timedelta(days=rules.stall_window_days),
    ):
        mark = _stored(target, instants[0])
        before = bisect_right(instants, mark) - 1
        after = bisect_left(instants, mark)
        keep.update((before, after))
        if after < n and instants[after] == mark:
            keep.update((after - 1, before + 1))
    if gone[-1]:
        first = n - 1
        while first > 0 and gone[first - 1]:
            first -= 1
        keep.add(first)
        keep.add(first - 1)
    return sorted(i for i in keep if 0 <= i < n)


def statuses_for(
    rows: Sequence[Any], rules: TrajectoryRules, healed_on: date | None = None
) -> Trajectory:
    """compute_trajectory's status, rule and PAR for one wound from its
    (wound_id, assessed_at, area_cm2, closed, ...) rows in time order, fed only
    the assessments those depend on (_status_indices). Slopes, k and the
    projection in the result are NOT those of the full series."""
    # An assessment without an area counts only when it found the wound closed.
    measured = [row for row in rows if row[2] is not None or row[3]]
    if len(measured) > 6:
        gone = [bool(row[3]) or row[2] == 0 for row in measured]
        keep = _status_indices([row[1] for row in measured], gone, rules)
        measured = [measured[i] for i in keep]
    points = [
        Measurement(
            at=as_utc(row[1]),
            area_cm2=0.0 if row[2] is None else float(row[2]),
            closed=bool(row[3]),
        )
        for row in measured
    ]
    return compute_trajectory(points, healed_on=healed_on, rules=rules)
