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
from operator import itemgetter
from typing import Any

from flask import current_app

from app.clinical.geometry import ellipse_area
from app.clinical.trajectory import Measurement, Trajectory, TrajectoryRules, compute_trajectory
from app.core.db import naive_as_utc

# Etiologies that put a wound in an irradiated field whether or not a course is linked.
RADIATION_ETIOLOGIES = ("radiation_dermatitis", "radiation_ulcer")


def trajectory_rules(clinic_par_threshold_pct: float | None) -> TrajectoryRules:
    """Thresholds for compute_trajectory: the clinic's PAR threshold when it set
    one, else PAR_THRESHOLD_PCT; PAR_WEEK and DETERIORATING_MARGIN_PCT from config.
    (No threshold is published for radiation wounds: clinical-reference.md.)"""
    cfg = current_app.config
    return _trajectory_rules(
        float(
            clinic_par_threshold_pct
            if clinic_par_threshold_pct is not None
            else cfg["PAR_THRESHOLD_PCT"]
        ),
        int(cfg["PAR_WEEK"]),
        float(cfg["DETERIORATING_MARGIN_PCT"]),
    )


@functools.lru_cache(maxsize=64)
def _trajectory_rules(threshold_pct: float, week: int, margin_pct: float) -> TrajectoryRules:
    """One TrajectoryRules per value (they are frozen, and few: one per clinic
    threshold), built and checked once."""
    return TrajectoryRules(
        par_threshold_pct=threshold_pct, par_week=week, deteriorating_margin_pct=margin_pct
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


def in_irradiated_field(course_id: Any, etiology: str) -> bool:
    """The wound lies in an irradiated field: it is linked to a radiotherapy
    course, or its etiology is a radiation injury."""
    return course_id is not None or etiology in RADIATION_ETIOLOGIES


def past_closures(closures: Sequence[Any] | None) -> list[date]:
    """The healed dates a wound was reopened after (Wound.closures)."""
    return [date.fromisoformat(c["healed_on"]) for c in closures or ()]


def measurement(
    at: datetime,
    area: float | None,
    closed: Any,
    method: str | None,
    traced: float | None,
    measured: float | None,
    length: float | None,
    width: float | None,
    *,
    perimeter: float | None = None,
    seq: int = 0,
) -> Measurement | None:
    """The Measurement of an assessment (its area in use and method, and the
    areas the other methods gave), or None when it has no area. A closed wound
    without a recorded area counts as 0 cm2 (it has resurfaced)."""
    if area is None:
        if not closed:
            return None
        area = 0.0
    others: list[tuple[str, float]] = []
    if traced is not None and method != "traced":
        others.append(("traced", float(traced)))
    if measured is not None and method != "measured":
        others.append(("measured", float(measured)))
    if length is not None and width is not None and method != "ellipse":
        others.append(("ellipse", ellipse_area(length, width)))
    return Measurement(
        at, float(area), perimeter, bool(closed), method, tuple(others) if others else (), seq
    )


def _status_indices(instants: list[Any], rules: TrajectoryRules) -> list[int]:
    """The assessments that decide compute_trajectory's status, reasons,
    baseline, latest, PAR and the week-4 checkpoint (not its slopes or
    projection) for a series without a closure (a single open episode).

    Those read only: the baseline, the previous and the latest assessment
    (deterioration); and the assessments either side of the checkpoint day
    and of the start of the recent window (interpolation; the comparison of
    area methods reads the same ones). Passing just these gives the same
    answer for a fraction of the work, which is what lets the dashboard judge
    thousands of wounds per request; tests/summaries checks the equivalence on
    random series. ``instants`` are assessed_at as fetched, in order (only two
    are parsed).

    Where an assessment lies exactly on the checkpoint day or the window
    start, the trajectory's comparison of float days may fall either way (the
    window start is itself a float difference), so the neighbours of such a
    tie are kept too: any superset of the deciding assessments gives the same
    answer. Elsewhere the instants are at least a microsecond from the mark,
    far more than the rounding of days.
    """
    n = len(instants)
    keep = {0, n - 2, n - 1}
    origin, latest = as_utc(instants[0]), as_utc(instants[-1])
    for target in (
        origin + timedelta(days=rules.par_day),
        # The window is at most the whole series: it starts at the origin then
        # (and reads the last of the assessments there).
        max(latest - timedelta(days=rules.recent_window_days), origin),
    ):
        mark = _stored(target, instants[0])
        before = bisect_right(instants, mark) - 1
        after = bisect_left(instants, mark)
        keep.update((before, after))
        if after < n and instants[after] == mark:
            keep.update((after - 1, before + 1))
    return sorted(i for i in keep if 0 <= i < n)


def statuses_for(
    rows: Sequence[Any],
    rules: TrajectoryRules,
    healed_on: date | None = None,
    closures: Sequence[date] = (),
    irradiated: bool = False,
) -> Trajectory:
    """compute_trajectory's status, reasons, PAR and checkpoint for one wound
    from its rows (wound_id, assessed_at, area_cm2, closed, area_method,
    traced_area_cm2, measured_area_cm2, length_cm, width_cm, ...) in order
    (assessed_at, created_at, id). A series without a closure (no closed or
    zero-area assessment, no healed date) is fed only the assessments the
    answer depends on (_status_indices): slopes, k, the projection and the
    episode's count of measurements in the result are NOT those of the full
    series. ``closures``: earlier healed dates (past_closures)."""
    # An assessment without an area counts only when it found the wound closed.
    measured = [row for row in rows if row[2] is not None or row[3]]
    kept: Sequence[int] = range(len(measured))
    if len(measured) > 6 and healed_on is None and not closures and not any_closure(measured):
        kept = _status_indices([row[1] for row in measured], rules)
    chosen = [measured[i] for i in kept]
    # The other methods' areas are read only when the areas compared were not
    # all taken by one method (area_methods.compare): skip building them then.
    if len({row[4] for row in chosen}) == 1:
        points = [
            Measurement(
                as_utc(row[1]),
                0.0 if row[2] is None else float(row[2]),  # closed, nothing measured: 0
                None,
                bool(row[3]),
                row[4],
                (),
                i,
            )
            for i, row in zip(kept, chosen, strict=True)
        ]
    else:
        points = [
            _measured(measurement(as_utc(row[1]), *row[2:9], seq=i))
            for i, row in zip(kept, chosen, strict=True)
        ]
    return compute_trajectory(
        points, healed_on=healed_on, past_closures=closures, irradiated=irradiated, rules=rules
    )


_CLOSED = itemgetter(3)
_AREA = itemgetter(2)


def any_closure(rows: Sequence[Any]) -> bool:
    """Some assessment row (as statuses_for reads them) found the wound closed:
    marked closed, or an area of 0. (C loops over the two columns.)"""
    return True in map(_CLOSED, rows) or 0 in map(_AREA, rows)


def _measured(m: Measurement | None) -> Measurement:
    assert m is not None  # measured rows only
    return m
