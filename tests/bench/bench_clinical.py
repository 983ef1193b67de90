"""Trajectory maths: a full trajectory as a ratio to a loop that only sums areas."""

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
            "target": 20,
            "better": "lower",
        },
    ]
