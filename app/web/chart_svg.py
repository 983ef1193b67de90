"""The healing curve drawn as inline SVG for the clinic pages.

Why not the API's matplotlib chart (app/summaries/chart.py): an image scaled
to the card shrinks its text with it (7 px on a desktop card, 4 pt on paper).
Here the page carries the same chart laid out three times, for a wide card
(900 units), a medium one (600) and a phone (330), and CSS shows the one that
fits, never scaled below its own size; print shows the wide one across A4
(186 mm, so its 15-unit text prints at 8.8 pt). Text inside the chart is
limited to tick labels and the axis titles, placed on their own rows with
room measured generously; what the marks mean is the legend beside or below
it, in HTML, which wraps instead of colliding (app/web/chart_data.py makes
the marks). No script and no style attributes: the CSP allows neither.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from markupsafe import Markup, escape

from app.web.chart_data import CLOSED_COLOR, REOPENED_COLOR, ChartData, chart_data
from app.web.formatting import fmt_date, fmt_num

FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
# A generous average glyph width (em) for tick labels: room is measured with
# it, so real glyphs (about 0.55 em for digits) never reach their neighbours.
CHAR_EM = 0.66
INK, MUTED, GRID, LINE = "#1d2433", "#5b6475", "#e3e7ee", "#1f5fa8"
TARGET, DRUG, EPISODE = "#a15c00", "#f6d4d8", "#eceff4"
WEEK_STEPS = (1, 2, 4, 8, 13, 26, 52, 104, 208, 520)
LANE_ROW = 16


@dataclass(frozen=True)
class Layout:
    name: str
    width: int
    height: int
    font: int  # every text's size, in SVG units (= CSS px where shown unscaled)
    max_x_ticks: int


LAYOUTS = (
    Layout("wide", 900, 380, 15, 14),
    Layout("medium", 600, 340, 14, 10),
    Layout("narrow", 330, 320, 14, 6),
)


def _text_width(text: str, font: int) -> float:
    return len(text) * CHAR_EM * font


def _nice_step(span: float, count: int) -> float:
    """The 1-2-2.5-5 step that cuts ``span`` into at most ``count`` intervals."""
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _decimals(step: float) -> int:
    """Decimals that print ``step`` (and its multiples) exactly: 2.5 -> 1, 0.25 -> 2."""
    return next((d for d in range(6) if abs(round(step, d) - step) < 1e-9), 6)


def _y_ticks(top: float) -> tuple[list[float], int]:
    step = _nice_step(top, 4)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)], _decimals(step)


def _x_ticks(low: float, high: float, px_per_week: float, layout: Layout) -> list[int]:
    """Whole weeks, as many as fit without their labels touching."""
    for step in WEEK_STEPS:
        ticks = list(range(math.ceil(low / step) * step, math.floor(high) + 1, step))
        widest = max((_text_width(str(t), layout.font) for t in ticks), default=0.0)
        if len(ticks) <= layout.max_x_ticks and step * px_per_week >= widest + 12:
            return ticks
    return [math.ceil(low)]


def _lane_rows(data: ChartData, px_per_week: float) -> list[int]:
    """A row in the lane for each event: the first row where it keeps 14 units
    from the marks already there (three rows at most)."""
    rows: list[int] = []
    placed: list[list[float]] = [[], [], []]
    for event in data.events:
        x = event.week * px_per_week
        row = next((r for r in range(3) if all(abs(x - o) >= 14 for o in placed[r])), 2)
        placed[row].append(x)
        rows.append(row)
    return rows


class _Canvas:
    """One layout of the chart: scales, and the SVG elements in drawing order."""

    def __init__(self, data: ChartData, layout: Layout) -> None:
        self.data, self.layout, self.parts = data, layout, []
        f = layout.font
        self.y_ticks, self.decimals = _y_ticks(data.y_top * 1.08)
        self.y_max = self.y_ticks[-1]
        label_w = max(_text_width(self._y_label(v), f) for v in self.y_ticks)
        self.left = round(f * 1.3 + 10 + label_w + 8)
        self.right = layout.width - max(16, round(_text_width("104", f) / 2 + 6))
        span = data.x_range[1] - data.x_range[0]
        self.px_per_week = (self.right - self.left) / span
        self.rows = _lane_rows(data, self.px_per_week)
        lanes = (max(self.rows) + 1) if self.rows else 0
        self.lane_top = 6
        self.top = self.lane_top + lanes * LANE_ROW + (8 if lanes else 4)
        self.bottom = layout.height - round(f * 1.25 + 8 + f * 1.3 + 6)

    def x(self, week: float) -> float:
        return self.left + (week - self.data.x_range[0]) * self.px_per_week

    def y(self, area: float) -> float:
        return self.bottom - area / self.y_max * (self.bottom - self.top)

    def _y_label(self, value: float) -> str:
        return f"{value:.{self.decimals}f}"

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x: float, y: float, content: str, anchor: str = "middle", **attrs: Any) -> None:
        extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{self.layout.font}" '
            f'text-anchor="{anchor}" fill="{INK}"{extra}>{escape(content)}</text>'
        )


def _bands(c: _Canvas) -> None:
    low, high = c.data.x_range
    for bands, color in ((c.data.episode_bands, EPISODE), (c.data.drug_bands, DRUG)):
        for band in bands:
            start, end = max(band.start, low), min(band.end, high)
            if end > start:
                c.add(
                    f'<rect class="band" x="{c.x(start):.1f}" y="{c.top}" '
                    f'width="{c.x(end) - c.x(start):.1f}" height="{c.bottom - c.top}" '
                    f'fill="{color}"><title>{escape(band.text)}</title></rect>'
                )


def _axes(c: _Canvas) -> None:
    f = c.layout.font
    for value in c.y_ticks:
        y = c.y(value)
        c.add(f'<line x1="{c.left}" x2="{c.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        c.text(c.left - 8, y + f * 0.35, c._y_label(value), anchor="end", class_="tick")
    low, high = c.data.x_range
    for week in _x_ticks(low, high, c.px_per_week, c.layout):
        x = c.x(week)
        c.add(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{c.bottom}" y2="{c.bottom + 5}" stroke="{INK}"/>'
        )
        c.text(x, c.bottom + 5 + f, str(week), class_="tick")
    c.add(f'<line x1="{c.left}" x2="{c.right}" y1="{c.bottom}" y2="{c.bottom}" stroke="{INK}"/>')
    c.add(f'<line x1="{c.left}" x2="{c.left}" y1="{c.top}" y2="{c.bottom}" stroke="{INK}"/>')
    c.text(
        (c.left + c.right) / 2,
        c.layout.height - 8,
        "Weeks since the first assessment",
        class_="axis-title",
    )
    mid = (c.top + c.bottom) / 2
    c.text(
        f * 1.0,
        mid,
        "Area (cm²)",
        class_="axis-title",
        transform=f"rotate(-90 {f * 1.0:.1f} {mid:.1f})",
    )


def _checkpoint(c: _Canvas) -> None:
    d = c.data
    if d.checkpoint_week is None:
        return
    x = c.x(d.checkpoint_week)
    c.add(
        f'<line class="checkpoint" x1="{x:.1f}" x2="{x:.1f}" y1="{c.top}" y2="{c.bottom}" '
        f'stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    if d.target_area is not None:
        y = c.y(d.target_area)
        c.add(
            f'<line class="threshold" x1="{c.left}" x2="{c.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="8 5"/>'
        )
        c.add(_diamond(x, y, 7, "none", TARGET, "Week-4 target"))
    if d.week4_area is not None:
        color = CLOSED_COLOR if d.week4_met else TARGET
        c.add(_diamond(x, c.y(d.week4_area), 6, color, "#fff", "Area at week 4"))


def _diamond(x: float, y: float, r: float, fill: str, stroke: str, title: str) -> str:
    points = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
    return (
        f'<polygon points="{points}" fill="{fill}" stroke="{stroke}" stroke-width="2">'
        f"<title>{escape(title)}</title></polygon>"
    )


def _events(c: _Canvas) -> None:
    """Lane marks above the plot, each with a guide line down through it."""
    for event, row in zip(c.data.events, c.rows, strict=True):
        x = c.x(event.week)
        y = c.lane_top + row * LANE_ROW + LANE_ROW / 2
        c.add(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y:.1f}" y2="{c.bottom}" stroke="{event.color}" '
            f'stroke-width="1" stroke-dasharray="2 3" opacity="0.8"/>'
        )
        c.add(_mark(event.shape, x, y, event.color, event.text))


def _mark(shape: str, x: float, y: float, color: str, title: str) -> str:
    tip = f"<title>{escape(title)}</title>"
    if shape == "triangle":
        pts = f"{x - 6:.1f},{y - 5:.1f} {x + 6:.1f},{y - 5:.1f} {x:.1f},{y + 6:.1f}"
        return f'<polygon class="event" points="{pts}" fill="{color}">{tip}</polygon>'
    if shape == "diamond":
        return _diamond(x, y, 6, color, color, title).replace("<polygon", '<polygon class="event"')
    return f'<circle class="event" cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{color}">{tip}</circle>'


def _curve(c: _Canvas) -> None:
    """The area line, broken where an episode ends, and a dot per visit
    (closed visits green)."""
    segments: list[list[str]] = []
    previous: Any = object()
    for p in c.data.points:
        if not segments or p.episode != previous:
            segments.append([])
        segments[-1].append(f"{c.x(p.week):.1f},{c.y(p.area):.1f}")
        previous = p.episode
    for seg in segments:
        c.add(
            f'<polyline class="area-line" points="{" ".join(seg)}" fill="none" '
            f'stroke="{LINE}" stroke-width="2.5" stroke-linejoin="round"/>'
        )
    for p in c.data.points:
        color = CLOSED_COLOR if p.closed else LINE
        c.add(
            f'<circle class="point" cx="{c.x(p.week):.1f}" cy="{c.y(p.area):.1f}" r="4.5" '
            f'fill="{color}" stroke="#fff" stroke-width="1.5">'
            f"<title>{escape(p.text)}</title></circle>"
        )


def _svg(data: ChartData, layout: Layout, desc: str) -> str:
    ident = f"chart-{layout.name}"
    head = (
        f'<svg class="chart-svg {layout.name}" viewBox="0 0 {layout.width} {layout.height}" '
        f'width="{layout.width}" height="{layout.height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONT_FAMILY}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">Healing curve: {escape(data.title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    if data.origin is None or not data.points:
        f = layout.font
        body = (
            f'<text x="{layout.width / 2:.1f}" y="{layout.height / 2:.1f}" font-size="{f}" '
            f'text-anchor="middle" fill="{MUTED}">No measured assessments yet</text>'
        )
        return head + body + "</svg>"
    c = _Canvas(data, layout)
    for draw in (_bands, _axes, _checkpoint, _events, _curve):
        draw(c)
    return head + "".join(c.parts) + "</svg>"


def _key(shape: str, color: str) -> str:
    """A legend key: the mark itself, small, decorative."""
    inner = {
        "line": f'<line x1="2" x2="26" y1="8" y2="8" stroke="{color}" stroke-width="2.5"/>'
        f'<circle cx="14" cy="8" r="4" fill="{color}" stroke="#fff"/>',
        "dot": f'<circle cx="14" cy="8" r="5" fill="{color}"/>',
        "vdash": f'<line x1="14" x2="14" y1="0" y2="16" stroke="{color}" stroke-width="2" '
        f'stroke-dasharray="4 3"/>',
        "hdash": f'<line x1="1" x2="27" y1="8" y2="8" stroke="{color}" stroke-width="2" '
        f'stroke-dasharray="6 4"/>',
        "band": f'<rect x="2" y="1" width="24" height="14" fill="{color}"/>',
        "triangle": f'<polygon points="8,3 20,3 14,14" fill="{color}"/>',
        "diamond": f'<polygon points="14,2 20,8 14,14 8,8" fill="{color}"/>',
    }[shape]
    return (
        f'<svg class="key" width="28" height="16" viewBox="0 0 28 16" aria-hidden="true" '
        f'focusable="false">{inner}</svg>'
    )


def _legend(d: ChartData) -> list[tuple[Markup, str]]:
    items = [("line", LINE, "Wound area (cm²) at each assessment")]
    if any(p.closed for p in d.points):
        items.append(("dot", CLOSED_COLOR, "Closed at that assessment"))
    if any(e.shape == "diamond" for e in d.events):
        items.append(("diamond", REOPENED_COLOR, "Reopened: a new episode starts"))
    if d.episode_bands:
        items.append(("band", EPISODE, "Shaded: a later episode"))
    items += [("triangle", color, text) for text, color in d.procedure_kinds.items()]
    if d.checkpoint_week is not None:
        items.append(("vdash", MUTED, f"Week {d.checkpoint_week} checkpoint"))
    if d.target_area is not None and d.baseline_area is not None:
        items.append(
            (
                "hdash",
                TARGET,
                f"Week-{d.checkpoint_week} target: {fmt_num(d.target_area, 2)} cm² or less "
                f"({d.threshold_pct:g} % below the baseline {fmt_num(d.baseline_area, 2)} cm²)",
            )
        )
    if d.week4_area is not None:
        met = "target met" if d.week4_met else "target not met"
        items.append(
            (
                "diamond",
                CLOSED_COLOR if d.week4_met else TARGET,
                f"Area at week {d.checkpoint_week}: {fmt_num(d.week4_area, 2)} cm² ({met})",
            )
        )
    for agent in dict.fromkeys(b.text for b in d.drug_bands):
        items.append(("band", DRUG, f"On {agent} (anti-angiogenic)"))
    return [(Markup(_key(shape, color)), text) for shape, color, text in items]  # noqa: S704


def healing_chart(trajectory: dict[str, Any], wound: Any, zone: tzinfo) -> dict[str, Any]:
    """The chart for a page: ``title``, ``svgs`` (the three layouts, as Markup),
    ``legend`` ([(key markup, text)]) and ``note`` (what week 0 is)."""
    data = chart_data(trajectory, wound, zone)
    base, last = trajectory.get("baseline"), trajectory.get("latest")
    desc = "Wound area over time"
    if base and last:
        desc += (
            f", from {fmt_num(base['area_cm2'], 2)} cm² on {fmt_date(base['at'], zone)}"
            f" to {fmt_num(last['area_cm2'], 2)} cm² on {fmt_date(last['at'], zone)}"
        )
    svgs = "".join(_svg(data, layout, desc) for layout in LAYOUTS)
    note = (
        f"Week 0 is the first assessment, {fmt_date(base['at'], zone)}."
        if base
        else "No measured assessment yet."
    )
    return {
        "title": data.title,
        "svgs": Markup(svgs),  # noqa: S704 - built here, every text escaped
        "legend": _legend(data),
        "note": note,
    }
