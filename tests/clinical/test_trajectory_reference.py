"""compute_trajectory against a plain restatement of its rules.

compute_trajectory is written for speed: the sort is skipped for ordered input,
closures are found in the pass that reads the areas, episodes are split only
when there is one, the slopes come from plain sums. The reference below
restates each rule of docs/clinical-reference.md one at a time, on datetimes
and sorted lists, with no shortcut: the two must agree on random series
(unordered, with equal instants, closures, healed dates, mixed area methods).
Texts are checked by the unit tests; here the numbers and the decisions.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from app.clinical.trajectory import Measurement, TrajectoryRules, compute_trajectory

T0 = datetime(2022, 6, 6, 10, tzinfo=UTC)
METHODS = ("traced", "measured", "ellipse")


def _key(m: Measurement) -> tuple[object, ...]:
    return (
        m.at.astimezone(UTC),
        m.seq,
        m.closed,
        m.area_cm2,
        m.method or "",
        -1.0 if m.perimeter_cm is None else m.perimeter_cm,
        m.other_areas,
    )


def _day(m: Measurement, first: Measurement) -> float:
    return (m.at - first.at) / timedelta(days=1)


def _gone(m: Measurement) -> bool:
    return m.closed or m.area_cm2 == 0


def _episodes(
    ordered: list[Measurement], healed_on: date | None, past: list[date]
) -> list[dict[str, object]]:
    """Episodes as dicts: points, closed_on, reopened. Events in order: each
    healed date just before the first measurement (in order) on a later day."""
    dates = {d: False for d in past}
    if healed_on is not None:
        dates[healed_on] = True
    events: list[tuple[int, int, object, date]] = []
    for d, current in sorted(dates.items()):
        later = [i for i, m in enumerate(ordered) if m.at.date() > d]
        # before the first later one, or at the end; after earlier dates there
        events.append((later[0] if later else len(ordered), 0, current, d))
    events += [(i, 1, m, m.at.date()) for i, m in enumerate(ordered)]
    events.sort(key=lambda e: (e[0], e[1], e[3]))
    episodes: list[dict[str, object]] = [
        {"points": [], "closed_on": None, "reopened": False, "open": False}
    ]

    def new() -> None:
        episodes.append({"points": [], "closed_on": None, "reopened": False, "open": False})

    for _, kind, item, day in events:
        e = episodes[-1]
        if kind == 0:  # a recorded healing
            if e["reopened"]:
                new()
                e = episodes[-1]
            e["closed_on"] = day
            e["reopened"] = not item
            continue
        m = item
        assert isinstance(m, Measurement)
        if e["closed_on"] is not None and (e["reopened"] or not _gone(m)):
            new()
            e = episodes[-1]
        points = e["points"]
        assert isinstance(points, list)
        points.append(m)
        if not _gone(m):
            e["open"] = True
        elif e["closed_on"] is None and (e["open"] or m.closed):
            e["closed_on"] = m.at.date()
    if episodes[-1]["reopened"]:
        new()
    return episodes


def _slope(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    if all(y == ys[0] for y in ys):
        return 0.0 if any(x != xs[0] for x in xs) else None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) * (x - mx) for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def _areas(points: list[Measurement]) -> tuple[list[float], str | None]:
    """Areas on one method: the same method in use, else the first of METHODS
    every open area has (closures are 0), else the areas in use."""
    if (
        len({m.method for m in points}) == 1
        or len({m.method for m in points if m.area_cm2 > 0}) < 2
    ):
        used = {m.method for m in points if m.area_cm2 > 0} or {points[0].method}
        return [m.area_cm2 for m in points], used.pop()
    for method in METHODS:
        out = []
        for m in points:
            by = dict(m.other_areas) | {m.method: m.area_cm2}
            if m.area_cm2 == 0:
                out.append(0.0)
            elif by.get(method, 0) > 0:
                out.append(by[method])
        if len(out) == len(points):
            return out, method
    return [m.area_cm2 for m in points], None


def _par(a0: float, at: float) -> float | None:
    return None if a0 == 0 else (a0 - at) / a0 * 100


def _area_at(points: list[Measurement], days: list[float], day: float) -> tuple[float, float]:
    """(baseline, area on ``day``) on one method, between the last assessment on or
    before ``day`` and the first on or after it."""
    before = max(i for i, d in enumerate(days) if d <= day)
    after = min(i for i, d in enumerate(days) if d >= day)
    (a0, ab, aa), _ = _areas([points[0], points[before], points[after]])
    if days[after] == days[before]:
        return a0, ab
    return a0, ab + (aa - ab) * (day - days[before]) / (days[after] - days[before])


def _reach(pct: float, threshold: float) -> bool:
    return round(pct, 9) >= threshold


def _status(
    points: list[Measurement], episodes: list[dict[str, object]], rules: TrajectoryRules
) -> tuple[str, float | None]:
    """(status, recent change) of the current episode."""
    current = episodes[-1]
    if current["closed_on"] is not None or (points and _gone(points[-1])):
        return "healed", None
    if len(points) < 2:
        return ("recurred" if len(episodes) > 1 else "insufficient_data"), None
    days = [_day(m, points[0]) for m in points]
    margin = rules.deteriorating_margin_pct
    (b, latest), _ = _areas([points[0], points[-1]])
    (p, latest2), _ = _areas([points[-2], points[-1]])
    if latest > b and (b == 0 or _reach((latest - b) / b * 100, margin)):
        return "deteriorating", None
    if len(points) > 2 and latest2 > p and (p == 0 or _reach((latest2 - p) / p * 100, margin)):
        return "deteriorating", None
    if days[-1] >= rules.par_day:
        window = min(rules.recent_window_days, days[-1])
        start = days[-1] - window
        before = max(i for i, d in enumerate(days) if d <= start)
        after = min(i for i, d in enumerate(days) if d >= start)
        (ab, aa, al), _ = _areas([points[before], points[after], points[-1]])
        then = (
            ab
            if days[after] == days[before]
            else (ab + (aa - ab) * (start - days[before]) / (days[after] - days[before]))
        )
        change = (then - al) / then * 100
        t = rules.par_threshold_pct
        need = (
            t if window == rules.par_day else (1 - (1 - t / 100) ** (window / rules.par_day)) * 100
        )
        return ("on_track" if _reach(change, need) else "stalled"), change
    if len(episodes) > 1:
        return "recurred", None
    if days[-1] < rules.min_days_for_trend:
        return "insufficient_data", None
    projected = (1 - (latest / b) ** (rules.par_day / days[-1])) * 100
    return ("on_track" if _reach(projected, rules.par_threshold_pct) else "insufficient_data"), None


def _reference(
    raw: list[Measurement], healed_on: date | None, past: list[date], rules: TrajectoryRules
) -> dict[str, object]:
    ordered = sorted(raw, key=_key)
    episodes = _episodes(ordered, healed_on, past)
    points = episodes[-1]["points"]
    assert isinstance(points, list)
    status, recent = _status(points, episodes, rules)
    out: dict[str, object] = {
        "status": status,
        "episode": len(episodes),
        "recent_change_pct": None if recent is None else round(recent, 1) + 0.0,
        "baseline": points[0].area_cm2 if points else None,
        "latest": points[-1].area_cm2 if points else None,
    }
    days = [_day(m, points[0]) for m in points] if points else []
    par_pct = par4 = slope = None
    if len(points) >= 2:
        (a0, at), _ = _areas([points[0], points[-1]])
        par_pct = _par(a0, at)
        slope = _slope(days, [m.area_cm2 for m in points])
    if days and days[-1] >= rules.par_day:
        a0, a28 = _area_at(points, days, rules.par_day)
        par4 = _par(a0, a28)
    out["par_pct"] = None if par_pct is None else round(par_pct, 1) + 0.0
    out["par_week4_pct"] = None if par4 is None else round(par4, 1) + 0.0
    out["weekly"] = None if slope is None else round(slope * 7, 3) + 0.0
    return out


def _observed(raw: list[Measurement], healed_on: date | None, past: list[date], rules):  # type: ignore[no-untyped-def]
    t = compute_trajectory(raw, healed_on=healed_on, past_closures=past, rules=rules)
    return {
        "status": t.status,
        "episode": t.episode,
        "recent_change_pct": None
        if t.recent_change is None
        else t.recent_change.to_dict()["change_pct"],
        "baseline": None if t.baseline is None else t.baseline["area_cm2"],
        "latest": None if t.latest is None else t.latest["area_cm2"],
        "par_pct": t.par_pct,
        "par_week4_pct": t.par_week4_pct,
        "weekly": t.weekly_area_change_cm2,
    }


# Offsets in whole and half days (as assessments usually come), and arbitrary
# seconds; repeats (same instant) and zero areas on purpose; some points in
# another time zone; methods with and without a ruler's ellipse beside them.
_offsets = st.one_of(
    st.integers(min_value=0, max_value=120).map(lambda d: d * 43200),
    st.integers(min_value=0, max_value=120 * 86400),
)
_areas_st = st.one_of(
    st.floats(0.01, 500), st.floats(0.01, 500), st.sampled_from([0.0, 1.0, 2.5, 10.0])
)
_point = st.tuples(
    _offsets,
    _areas_st,
    st.sampled_from([False] * 9 + [True]),  # closed
    st.sampled_from([None, "traced", "measured", "ellipse"]),
    st.one_of(st.none(), st.floats(0.0, 500)),  # another method's area
    st.integers(min_value=0, max_value=3),  # seq
    st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]),
)
_rules = st.builds(
    TrajectoryRules,
    par_threshold_pct=st.sampled_from([40.0, 15.0, 90.0]),
    par_week=st.sampled_from([1, 4, 6]),
    deteriorating_margin_pct=st.sampled_from([0.0, 10.0]),
    recent_window_days=st.sampled_from([7, 28, 60]),
    min_days_for_trend=st.sampled_from([1, 7]),
)


def _measurement(
    raw: tuple[int, float, bool, str | None, float | None, int, timezone],
) -> Measurement:
    offset, area, closed, method, other, seq, tz = raw
    others: tuple[tuple[str, float], ...] = ()
    if method is not None and other is not None:
        alternative = METHODS[(METHODS.index(method) + 1) % 3]
        others = ((alternative, other),)
    at = (T0 + timedelta(seconds=offset)).astimezone(tz)
    return Measurement(at, area, closed=closed, method=method, other_areas=others, seq=seq)


_dates = st.dates(date(2022, 6, 1), date(2022, 10, 30))


@st.composite
def _course(
    draw: st.DrawFn,
) -> list[tuple[int, float, bool, str | None, float | None, int, timezone]]:
    """A course of healing: each assessment a few days after the last, its area
    a factor of the last one's (mostly smaller), now and then closed."""
    area = draw(st.floats(0.5, 50))
    offset = 0
    out = []
    for _ in range(draw(st.integers(1, 16))):
        closed = draw(st.sampled_from([False] * 12 + [True]))
        method = draw(st.sampled_from([None, "traced", "ellipse", "ellipse"]))
        other = draw(st.one_of(st.none(), st.just(area * 1.2)))
        out.append((offset, 0.0 if closed else area, closed, method, other, 0, UTC))
        offset += draw(st.sampled_from([0, 3, 7, 7, 7, 14])) * 86400
        area = 1.0 if closed else area * draw(st.floats(0.5, 1.15))
    return out


@settings(max_examples=500, deadline=None)
@given(
    raw=st.one_of(st.lists(_point, max_size=20), _course()),
    rules=_rules,
    healed_on=st.one_of(st.none(), st.none(), st.none(), _dates),
    past=st.one_of(st.just([]), st.just([]), st.lists(_dates, max_size=2)),
    shuffle=st.randoms(use_true_random=False),
)
def test_same_decisions_as_the_plain_rules(
    raw: list[tuple[int, float, bool, str | None, float | None, int, timezone]],
    rules: TrajectoryRules,
    healed_on: date | None,
    past: list[date],
    shuffle: random.Random,
) -> None:
    points = [_measurement(r) for r in raw]
    expected = _reference(points, healed_on, past, rules)
    shuffle.shuffle(points)
    assert _observed(points, healed_on, past, rules) == expected


def test_the_reference_itself_on_a_known_case() -> None:
    # 10 -> 6.5 -> 1.0 on days 0, 28, 56 (issue 18): on track, 84.6% recently
    points = [Measurement(T0 + timedelta(days=d), a) for d, a in ((0, 10), (28, 6.5), (56, 1))]
    assert _reference(points, None, [], TrajectoryRules()) == {
        "status": "on_track",
        "episode": 1,
        "recent_change_pct": 84.6,
        "baseline": 10,
        "latest": 1,
        "par_pct": 90.0,
        "par_week4_pct": 35.0,
        "weekly": -1.125,  # slope -9/56 cm2/day
    }
    assert math.isclose(_slope([0.0, 28.0, 56.0], [10.0, 6.5, 1.0]) or 0, -9 / 56)
