"""The pages' healing curve (app/web/chart_data.py, app/web/chart_svg.py) from
trajectory documents: what it marks and what its legend says. How the marks
render in a browser is tests/web/test_browser_chart.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.web.chart_data import chart_data
from app.web.chart_svg import LAYOUTS, _x_ticks, _y_ticks, healing_chart

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = {"par_week": 4, "par_threshold_pct": 40.0}


def visit(day: float, area: float | None, closed: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "at": (START + timedelta(days=day)).isoformat(),
        "area_cm2": area,
        "closed": closed,
        **extra,
    }


def trajectory(series: list[dict], procedures: list[dict] = (), **extra: Any) -> dict[str, Any]:
    measured = [s for s in series if s["area_cm2"] is not None or s["closed"]]
    first = measured[0] if measured else None
    return {
        "series": series,
        "procedures": list(procedures),
        "rules": RULES,
        "baseline": {"at": first["at"], "area_cm2": first["area_cm2"] or 0.0} if first else None,
        "latest": {"at": measured[-1]["at"], "area_cm2": measured[-1]["area_cm2"] or 0.0}
        if measured
        else None,
        "par_week4_pct": None,
        "therapy": None,
        **extra,
    }


def procedure(day: float, kind: str = "debridement", prp: bool = False) -> dict[str, Any]:
    return {
        "performed_at": (START + timedelta(days=day, hours=2)).isoformat(),
        "kind": kind,
        "prp": {"form": "gel"} if prp else None,
    }


WOUND = {"body_site": "popliteal fossa", "laterality": "left"}


def svg_of(chart: dict[str, Any], layout: str) -> str:
    found = re.search(rf'<svg class="chart-svg {layout}".*?</svg>', str(chart["svgs"]), re.S)
    assert found, layout
    return found.group(0)


def test_closure_and_reopening_are_marked_and_the_line_breaks_between_episodes():
    series = [
        visit(0, 4.0, episode=1),
        visit(14, 2.0, episode=1),
        visit(28, None, closed=True, episode=1),  # closed, no area taken: 0 cm²
        visit(42, 1.5, episode=2),
        visit(56, 1.0, episode=2),
    ]
    data = chart_data(trajectory(series), WOUND, UTC)
    shapes = [(e.shape, round(e.week, 2)) for e in data.events]
    assert shapes == [("circle", 4.0), ("diamond", 6.0)]
    assert [p.area for p in data.points] == [4.0, 2.0, 0.0, 1.5, 1.0]
    assert [(b.start, b.end) for b in data.episode_bands] == [(6.0, 8.0)]
    chart = healing_chart(trajectory(series), WOUND, UTC)
    for layout in LAYOUTS:
        svg = svg_of(chart, layout.name)
        assert svg.count('class="area-line"') == 2  # no line from the closure to the reopening
        assert svg.count('fill="#1e7a3c" stroke="#fff"') == 1  # the closed visit, green
        assert "Reopened 2026-04-13 09:00 UTC" in svg
    legend = [text for _, text in chart["legend"]]
    assert "Closed at that assessment" in legend
    assert "Reopened: a new episode starts" in legend and "Shaded: a later episode" in legend


def test_without_episodes_closures_are_still_marked_once_per_run():
    series = [visit(0, 3.0), visit(7, 0.0, closed=True), visit(14, 0.0, closed=True)]
    data = chart_data(trajectory(series), WOUND, UTC)
    assert [e.shape for e in data.events] == ["circle"]
    assert data.episode_bands == []


def test_procedures_are_marked_by_kind_and_named_in_the_legend():
    procs = [procedure(1, prp=True), procedure(8, prp=True), procedure(9, "dressing")]
    chart = healing_chart(trajectory([visit(0, 3.0), visit(21, 2.0)], procs), WOUND, UTC)
    for layout in LAYOUTS:
        assert svg_of(chart, layout.name).count('<polygon class="event"') == 3
    legend = [text for _, text in chart["legend"]]
    assert "Debridement + PRP" in legend and "Dressing" in legend
    # Two procedures a day apart are not drawn on top of each other in the lane.
    data = chart_data(trajectory([visit(0, 3.0), visit(21, 2.0)], procs), WOUND, UTC)
    assert len({round(e.week, 3) for e in data.events}) == 3


@pytest.mark.parametrize(("pct", "met"), [(52.0, True), (20.0, False)])
def test_the_week_4_checkpoint_and_threshold(pct, met):
    series = [visit(0, 10.0), visit(14, 8.0), visit(35, 5.0)]
    traj = trajectory(series, par_week4_pct=pct)
    data = chart_data(traj, WOUND, UTC)
    assert data.checkpoint_week == 4
    assert data.target_area == pytest.approx(6.0)  # 40 % below the 10 cm² baseline
    assert data.week4_area == pytest.approx(10.0 * (1 - pct / 100))
    assert data.week4_met is met
    chart = healing_chart(traj, WOUND, UTC)
    for layout in LAYOUTS:
        svg = svg_of(chart, layout.name)
        assert svg.count('class="checkpoint"') == 1 and svg.count('class="threshold"') == 1
    legend = " | ".join(text for _, text in chart["legend"])
    assert "Week 4 checkpoint" in legend
    assert "Week-4 target: 6.00 cm² or less (40 % below the baseline 10.00 cm²)" in legend
    assert ("target met" if met else "target not met") in legend


def test_the_checkpoint_is_shown_before_week_4_is_reached():
    data = chart_data(trajectory([visit(0, 3.0), visit(7, 2.8)]), WOUND, UTC)
    assert data.x_range[0] <= 0 and data.x_range[1] >= 4


def test_the_title_names_the_side_and_the_axes_their_units():
    chart = healing_chart(trajectory([visit(0, 3.0), visit(7, 2.0)]), WOUND, UTC)
    assert chart["title"] == "popliteal fossa, left"
    for layout in LAYOUTS:
        svg = svg_of(chart, layout.name)
        title = f'<title id="chart-{layout.name}-title">Healing curve: popliteal fossa, left'
        assert title in svg
        assert ">Area (cm²)</text>" in svg and ">Weeks since the first assessment</text>" in svg
        assert f'font-size="{layout.font}"' in svg
    midline = healing_chart(
        trajectory([visit(0, 3.0)]), {"body_site": "sacrum", "laterality": "none"}, UTC
    )
    assert midline["title"] == "sacrum"


def test_text_from_the_record_is_escaped():
    wound = {"body_site": '<script>alert("x")</script>', "laterality": "right"}
    chart = healing_chart(trajectory([visit(0, 3.0)]), wound, UTC)
    assert "<script>" not in str(chart["svgs"])
    assert "&lt;script&gt;" in str(chart["svgs"])


def test_times_are_read_in_the_clinics_zone():
    chart = healing_chart(trajectory([visit(0, 3.0)]), WOUND, ZoneInfo("Asia/Tokyo"))
    assert "2026-03-02 18:00 JST: 3.00 cm²" in str(chart["svgs"])
    assert chart["note"] == "Week 0 is the first assessment, 2026-03-02."


def test_a_wound_without_measurements_says_so():
    chart = healing_chart(trajectory([visit(0, None)]), WOUND, UTC)
    for layout in LAYOUTS:
        assert "No measured assessments yet" in svg_of(chart, layout.name)
    assert chart["note"] == "No measured assessment yet."


def test_long_follow_up_keeps_ticks_apart_and_points_bounded():
    series = [visit(d, 5.0 + (d % 7)) for d in range(0, 730, 2)]  # two years, 365 visits
    data = chart_data(trajectory(series), WOUND, UTC)
    assert len(data.points) <= 200
    for layout in LAYOUTS:
        width = layout.width * 0.8
        px_per_week = width / (data.x_range[1] - data.x_range[0])
        ticks = _x_ticks(*data.x_range, px_per_week, layout)
        assert 2 <= len(ticks) <= layout.max_x_ticks
        gap = (ticks[1] - ticks[0]) * px_per_week
        assert gap >= len(str(ticks[-1])) * 0.66 * layout.font + 12


@pytest.mark.parametrize(
    ("top", "labels"),
    [(3.14, ["0", "1", "2", "3", "4"]), (0.4, ["0.0", "0.1", "0.2", "0.3", "0.4"])],
)
def test_area_ticks_are_round_numbers(top, labels):
    ticks, decimals = _y_ticks(top)
    assert [f"{t:.{decimals}f}" for t in ticks] == labels
    assert _y_ticks(9.0)[1] == 1 and _y_ticks(9.0)[0][1] == 2.5  # 2.5-steps print one decimal
