"""Trajectory maths: a full trajectory as a ratio to a loop that only sums areas.

Targets: the marginal cost per point (fit over series of 2..200 points) at most
20x the summing loop's cost per point, and a 200-point trajectory at most 20x
the summing loop over the same points. The 5,000 x 20 figure is information."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta

from app.clinical.trajectory import Measurement, TrajectoryRules, compute_trajectory


def _series(rng: random.Random, n: int) -> list[Measurement]:
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    a0 = rng.uniform(1, 30)
    k = rng.uniform(-0.01, 0.08)
    return [
        Measurement(
            at=start + timedelta(days=3.5 * i),
            area_cm2=max(0.0, a0 * math.exp(-k * 3.5 * i) * rng.uniform(0.95, 1.05)),
            perimeter_cm=None,
        )
        for i in range(n)
    ]


def _best_pair(floor, full, repeat: int) -> tuple[float, float]:
    """Best time of each of two functions, run alternately ``repeat`` times.

    CPU time of this process (process_time), not wall time: on a shared 2-core
    machine another process taking the core would count against whichever
    side happened to run then. Alternating keeps both sides under the same
    conditions (cache, frequency) for the ratio.
    """
    best_floor = best_full = math.inf
    for _ in range(repeat):
        t = time.process_time()
        floor()
        best_floor = min(best_floor, time.process_time() - t)
        t = time.process_time()
        full()
        best_full = min(best_full, time.process_time() - t)
    return best_floor, best_full


def _fit(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """Least-squares line y = fixed + per_point * x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - slope * mx, slope


def _cost_by_length(rng: random.Random, rules: TrajectoryRules) -> tuple[list[int], list, list]:
    """Per-wound time of the trajectory and of the summing loop for lengths 2..200.

    Each length is measured on the same series by both sides, alternately, so a
    busy spell of the machine lands on both."""
    lengths = [2, 5, 10, 20, 40, 60, 80, 100, 125, 150, 175, 200]
    full: list[float] = []
    floor: list[float] = []
    for n in lengths:
        series = _series(rng, n)

        def sum_loop(series: list[Measurement] = series) -> float:
            total = 0.0
            for m in series:
                total += m.area_cm2
            return total

        def trajectory(series: list[Measurement] = series) -> None:
            compute_trajectory(series, rules=rules)

        calls_full = max(20, 4000 // n)
        f, t = _best_pair(
            lambda calls=calls_full * 20: [sum_loop() for _ in range(calls)],
            lambda calls=calls_full: [trajectory() for _ in range(calls)],
            7,
        )
        floor.append(f / (calls_full * 20))
        full.append(t / calls_full)
    return lengths, full, floor


def run(results: list[dict]) -> None:
    rng = random.Random(7)
    rules = TrajectoryRules()
    one = _series(rng, 200)
    many = [_series(rng, 20) for _ in range(5000)]

    def floor_one() -> float:
        total = 0.0
        for m in one:
            total += m.area_cm2
        return total

    def full_one() -> None:
        compute_trajectory(one, rules=rules)

    def floor_many() -> float:
        total = 0.0
        for series in many:
            for m in series:
                total += m.area_cm2
        return total

    def full_many() -> None:
        for series in many:
            compute_trajectory(series, rules=rules)

    # The 200-point calls are short: repeat each side in an inner loop so one
    # timing is well above the clock's resolution.
    def floor_one_x20() -> None:
        for _ in range(20):
            floor_one()

    def full_one_x20() -> None:
        for _ in range(20):
            full_one()

    f1, t1 = (t / 20 for t in _best_pair(floor_one_x20, full_one_x20, 30))
    fm, tm = _best_pair(floor_many, full_many, 5)

    # A wound's trajectory costs a fixed amount (rules, fit set-up, status) plus
    # an amount per measurement; the fit over lengths 2..200 tells them apart,
    # and the per-point part is what grows with a long follow-up.
    lengths, full, floor = _cost_by_length(rng, rules)
    fixed, per_point = _fit(lengths, full)
    _, floor_per_point = _fit(lengths, floor)
    print(
        f"   trajectory per wound = {fixed * 1e6:.1f} us + {per_point * 1e6:.2f} us x points; "
        f"summing loop {floor_per_point * 1e9:.1f} ns per point"
    )
    results += [
        {
            "name": "trajectory_200_assessments_s",
            "value": t1,
            "unit": "s",
            "target": None,
            "better": "lower",
        },
        {
            "name": "trajectory_200_vs_sum_floor",
            "value": t1 / f1,
            "unit": "ratio",
            "target": 20,
            "better": "lower",
        },
        {
            "name": "trajectory_fixed_cost_per_wound_us",
            "value": fixed * 1e6,
            "unit": "us",
            "target": None,
            "better": "lower",
        },
        {
            "name": "trajectory_marginal_cost_per_point_us",
            "value": per_point * 1e6,
            "unit": "us",
            "target": None,
            "better": "lower",
        },
        {
            "name": "sum_loop_cost_per_point_us",
            "value": floor_per_point * 1e6,
            "unit": "us",
            "target": None,
            "better": "lower",
        },
        {
            "name": "trajectory_marginal_per_point_vs_sum_loop",
            "value": per_point / floor_per_point,
            "unit": "ratio",
            "target": 20,
            "better": "lower",
        },
        {
            "name": "trajectory_5000x20_s",
            "value": tm,
            "unit": "s",
            "target": None,
            "better": "lower",
        },
        {
            "name": "trajectory_5000x20_vs_sum_floor",
            "value": tm / fm,
            "unit": "ratio",
            "target": None,  # information: at 20 points the fixed cost per wound dominates
            "better": "lower",
        },
    ]
