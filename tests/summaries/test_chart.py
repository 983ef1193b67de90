"""The chart draws a bounded number of points, keeping what a reader needs."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from app.summaries.chart import MAX_DRAWN_POINTS, drawn_points, render

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _series(n: int, peak_at: int | None = None) -> list[dict]:
    points = []
    for i in range(n):
        area = 10.0 - 9.0 * i / n
        if i == peak_at:
            area = 50.0
        points.append(
            {
                "at": (START + timedelta(hours=6 * i)).isoformat(),
                "area_cm2": area,
                "ctcae_grade": 2,
                "overridden": {"ctcae": False},
            }
        )
    return points


def test_a_short_series_is_drawn_whole():
    series = _series(MAX_DRAWN_POINTS)
    assert drawn_points(series) == series


def test_a_long_series_keeps_its_ends_and_its_peak():
    series = _series(6300, peak_at=4321)
    drawn = drawn_points(series)
    assert len(drawn) == MAX_DRAWN_POINTS
    assert drawn[0] is series[0] and drawn[-1] is series[-1]
    assert series[4321] in drawn
    times = [p["at"] for p in drawn]
    assert times == sorted(times)  # still a curve in time order


def test_a_chart_of_thousands_of_points_renders():
    trajectory = {
        "series": _series(6300),
        "procedures": [],
        "wound_status": "open",
        "therapy": None,
        "status": "on_track",
    }
    png = render(trajectory, "png", 640, 320)
    assert Image.open(io.BytesIO(png)).size == (640, 320)
