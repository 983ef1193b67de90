"""What the pages' healing curve shows, in weeks since the first assessment.

``chart_data`` turns a trajectory document (app/summaries/trajectory.py) into
the marks app/web/chart_svg.py draws: measured areas (closed visits at 0 cm²
when no area was taken), closures, reopenings where the series' ``episode``
changes, procedures, anti-angiogenic drug periods, and the week-4 checkpoint
with the area the clinic's PAR threshold asks for by then (clinical-reference:
PAR at week 4). Every number comes from the trajectory; nothing is judged here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from app.summaries.chart import PROCEDURE_COLORS, drawn_points
from app.web.formatting import fmt_dt, fmt_num, label

WEEK_SECONDS = 7 * 86400
CLOSED_COLOR = "#1e7a3c"
REOPENED_COLOR = "#b3261e"


@dataclass(frozen=True)
class Point:
    week: float
    area: float
    closed: bool
    episode: Any
    text: str  # the point in words (its tooltip)


@dataclass(frozen=True)
class Event:
    """A mark in the lane above the plot, with a guide line down through it."""

    week: float
    shape: str  # triangle (procedure) | circle (closed) | diamond (reopened)
    color: str
    text: str


@dataclass(frozen=True)
class Band:
    start: float
    end: float
    text: str


@dataclass
class ChartData:
    title: str
    origin: datetime | None
    points: list[Point] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    drug_bands: list[Band] = field(default_factory=list)
    episode_bands: list[Band] = field(default_factory=list)
    checkpoint_week: int | None = None
    threshold_pct: float | None = None
    baseline_area: float | None = None
    target_area: float | None = None
    week4_area: float | None = None
    week4_met: bool | None = None
    procedure_kinds: dict[str, str] = field(default_factory=dict)  # legend text -> colour
    x_range: tuple[float, float] = (0.0, 4.0)
    y_top: float = 1.0


def _moment(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _day_start(value: str, zone: tzinfo) -> datetime:
    return datetime.combine(date.fromisoformat(value[:10]), time(0), tzinfo=zone)


def chart_title(wound: Any) -> str:
    """The wound's site with its side ("popliteal fossa, left")."""
    side = wound.get("laterality")
    site = str(wound.get("body_site") or "wound")
    return f"{site}, {label(side)}" if side and side != "none" else site


def _procedure_text(proc: dict[str, Any]) -> str:
    kind = label(proc["kind"]).capitalize()
    if proc["kind"] != "prp" and proc.get("prp"):
        kind += " + PRP"
    return kind


def _series(trajectory: dict[str, Any]) -> list[dict[str, Any]]:
    """The measured visits, a closed visit without an area at 0 cm² (it had
    resurfaced), at most the points chart.drawn_points keeps."""
    measured = [
        s if s["area_cm2"] is not None else {**s, "area_cm2": 0.0}
        for s in trajectory["series"]
        if s["area_cm2"] is not None or s.get("closed")
    ]
    return list(drawn_points(measured))


def _points_and_episodes(data: ChartData, series: list[dict[str, Any]], zone: tzinfo) -> None:
    """Points; a closure mark where a run of closed visits starts; a reopening
    mark, and every other episode shaded, where the series' episode changes."""
    origin = data.origin
    assert origin is not None
    previous: dict[str, Any] | None = None
    episode_start: float | None = None
    shade = False
    for s in series:
        week = (_moment(s["at"]) - origin).total_seconds() / WEEK_SECONDS
        closed = bool(s.get("closed"))
        when = fmt_dt(s["at"], zone)
        text = f"{when}: {'closed' if closed else fmt_num(s['area_cm2'], 2) + ' cm²'}"
        data.points.append(Point(week, float(s["area_cm2"]), closed, s.get("episode"), text))
        if closed and not (previous and previous.get("closed")):
            data.events.append(Event(week, "circle", CLOSED_COLOR, f"Closed {when}"))
        if previous is not None and "episode" in s and s["episode"] != previous.get("episode"):
            data.events.append(Event(week, "diamond", REOPENED_COLOR, f"Reopened {when}"))
            if shade and episode_start is not None:
                data.episode_bands.append(Band(episode_start, week, "episode"))
            shade, episode_start = not shade, week
        previous = s
    if shade and episode_start is not None and data.points:
        data.episode_bands.append(Band(episode_start, data.points[-1].week, "episode"))


def _procedures(data: ChartData, trajectory: dict[str, Any], zone: tzinfo) -> None:
    assert data.origin is not None
    for proc in trajectory["procedures"]:
        week = (_moment(proc["performed_at"]) - data.origin).total_seconds() / WEEK_SECONDS
        text = _procedure_text(proc)
        color = PROCEDURE_COLORS.get(proc["kind"], PROCEDURE_COLORS["other"])
        data.procedure_kinds.setdefault(text, color)
        when = fmt_dt(proc["performed_at"], zone)
        data.events.append(Event(week, "triangle", color, f"{text} {when}"))


def _drug_bands(data: ChartData, trajectory: dict[str, Any], zone: tzinfo) -> None:
    assert data.origin is not None
    for band in (trajectory.get("therapy") or {}).get("anti_angiogenic_bands") or []:
        start = (_day_start(band["start"], zone) - data.origin).total_seconds() / WEEK_SECONDS
        last = band.get("end") or band["start"]
        end = (_day_start(last, zone) - data.origin).total_seconds() / WEEK_SECONDS + 1 / 7
        data.drug_bands.append(Band(start, end, str(band.get("agent") or "anti-angiogenic")))


def _checkpoint(data: ChartData, trajectory: dict[str, Any]) -> None:
    """Week 4 (the rules' par_week) and the area the PAR threshold asks for by
    then; the area at week 4 when the trajectory could tell it."""
    rules = trajectory.get("rules") or {}
    baseline = trajectory.get("baseline")
    if not baseline or not rules.get("par_week"):
        return
    data.checkpoint_week = int(rules["par_week"])
    data.threshold_pct = float(rules["par_threshold_pct"])
    data.baseline_area = float(baseline["area_cm2"])
    if data.baseline_area > 0:
        data.target_area = data.baseline_area * (1 - data.threshold_pct / 100)
    pct = trajectory.get("par_week4_pct")
    if pct is not None and data.baseline_area > 0:
        data.week4_area = max(0.0, data.baseline_area * (1 - float(pct) / 100))
        data.week4_met = float(pct) >= data.threshold_pct


def _ranges(data: ChartData) -> None:
    """The weeks shown (the checkpoint always among them) and the top of the area axis."""
    weeks = [p.week for p in data.points] + [e.week for e in data.events]
    if data.checkpoint_week is not None:
        weeks += [0.0, float(data.checkpoint_week)]
    low, high = (min(weeks), max(weeks)) if weeks else (0.0, 4.0)
    if high - low < 1:
        high = low + 1
    pad = (high - low) * 0.03
    data.x_range = (low - pad, high + pad)
    areas = [p.area for p in data.points] + [a for a in (data.baseline_area,) if a is not None]
    data.y_top = max(areas) if areas and max(areas) > 0 else 1.0


def chart_data(trajectory: dict[str, Any], wound: Any, zone: tzinfo) -> ChartData:
    """The healing curve's marks for ``trajectory``; times read in ``zone``."""
    series = _series(trajectory)
    baseline = trajectory.get("baseline")
    if baseline:
        origin: datetime | None = _moment(baseline["at"])
    elif series:
        origin = _moment(series[0]["at"])
    elif trajectory["procedures"]:
        origin = _moment(trajectory["procedures"][0]["performed_at"])
    else:
        origin = None
    data = ChartData(title=chart_title(wound), origin=origin)
    if origin is None:
        return data
    _points_and_episodes(data, series, zone)
    _procedures(data, trajectory, zone)
    _drug_bands(data, trajectory, zone)
    _checkpoint(data, trajectory)
    _ranges(data)
    return data
