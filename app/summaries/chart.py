"""The healing-curve chart: wound area over time, procedures and grades marked.

Drawn with matplotlib's object API (a Figure and an Agg canvas per call, never
pyplot), so concurrent requests share no global figure state.

matplotlib is imported inside the drawing functions, not here: it adds about
50 MB to every process that imports it, and only chart requests need it (the
schemas and the clinic pages import this module for its constants).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# CTCAE/RTOG grade colours, green (0) to dark red (4-5): readable at a glance.
GRADE_COLORS = {
    None: "#9e9e9e",
    0: "#2e7d32",
    1: "#9ccc65",
    2: "#fbc02d",
    3: "#ef6c00",
    4: "#c62828",
    5: "#4a148c",
}
PROCEDURE_COLORS = {
    "debridement": "#6a1b9a",
    "prp": "#1565c0",
    "dressing": "#00838f",
    "other": "#546e7a",
}
LINE_COLOR = "#263238"
DPI_RASTER = 100
DPI_SVG = 72  # the SVG backend works in points (1/72 in): 72 dpi makes 1 pt = 1 px

MIN_WIDTH, MAX_WIDTH = 320, 2400
MIN_HEIGHT, MAX_HEIGHT = 200, 1600
# Drawing costs about 1.7 ms a point (its marker and grade label): a chart
# draws at most this many, so it never takes more than a fixed small budget
# however long the follow-up. The JSON trajectory keeps every point.
MAX_DRAWN_POINTS = 200


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _short_kind(proc: dict[str, Any]) -> str:
    label = {"debridement": "Debr.", "prp": "PRP", "dressing": "Dressing"}.get(
        proc["kind"], proc["kind"].title()
    )
    if proc["kind"] != "prp" and proc.get("prp"):
        label += "+PRP"
    return str(label)


def drawn_points(series: list[dict[str, Any]], limit: int = MAX_DRAWN_POINTS) -> list[Any]:
    """The points a chart draws: all of them up to ``limit``; beyond it the
    first, the last and, from each of ``limit - 2`` equal runs between them,
    the largest area (a peak is what a reader must not lose)."""
    if len(series) <= limit:
        return series
    inner = series[1:-1]
    buckets = limit - 2
    kept = [series[0]]
    for b in range(buckets):
        run = inner[b * len(inner) // buckets : (b + 1) * len(inner) // buckets]
        if run:
            kept.append(max(run, key=lambda s: s["area_cm2"]))
    kept.append(series[-1])
    return kept


def _draw(fig: Figure, trajectory: dict[str, Any]) -> None:
    """Draw the chart on ``fig``, back to front (the order is the layering)."""
    ax = fig.add_subplot(1, 1, 1)
    series = drawn_points([s for s in trajectory["series"] if s["area_cm2"] is not None])
    xs = [_dt(s["at"]) for s in series]
    ys = [s["area_cm2"] for s in series]
    _therapy_bands(ax, trajectory, xs)
    if xs:
        _area_curve(ax, series, xs, ys)
    ymax = max(ys) if ys else 1.0
    ax.set_ylim(0, ymax * 1.3 if ymax > 0 else 1.0)
    for proc in trajectory["procedures"]:
        _procedure(ax, proc)
    healed_on = trajectory.get("healed_on") if trajectory.get("wound_status") == "healed" else None
    if healed_on:
        _healed(ax, date.fromisoformat(healed_on))
    _frame(ax, trajectory, bool(xs))
    _grade_legend(ax, series)


def _therapy_bands(ax: Any, trajectory: dict[str, Any], xs: list[datetime]) -> None:
    """Anti-angiogenic drug periods as shaded bands behind everything else."""
    bands = ((trajectory.get("therapy") or {}).get("anti_angiogenic_bands")) or []
    for i, band in enumerate(bands):
        start = date.fromisoformat(str(band["start"])[:10])
        stop = date.fromisoformat(str(band["end"])[:10]) if band.get("end") else None
        ax.axvspan(
            start,
            stop or (xs[-1] if xs else start),
            color="#ffcdd2",
            alpha=0.35,
            lw=0,
            label="anti-angiogenic" if i == 0 else None,
        )


def _area_curve(ax: Any, series: list[dict[str, Any]], xs: list[datetime], ys: list[float]) -> None:
    """The measured areas, each point coloured and labelled by its CTCAE grade
    (an asterisk when a clinician's override is in force)."""
    ax.plot(xs, ys, color=LINE_COLOR, lw=1.8, zorder=2, label="area (cm²)")
    colors = [GRADE_COLORS.get(s["ctcae_grade"], GRADE_COLORS[None]) for s in series]
    ax.scatter(xs, ys, c=colors, s=46, zorder=3, edgecolors="white", linewidths=0.8)
    for s, x, y in zip(series, xs, ys, strict=True):
        if s["ctcae_grade"] is not None:
            mark = "*" if s["overridden"]["ctcae"] else ""
            ax.annotate(
                f"G{s['ctcae_grade']}{mark}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=7,
                color="#37474f",
            )


def _procedure(ax: Any, proc: dict[str, Any]) -> None:
    """A dashed line at the procedure, labelled with its kind."""
    x = _dt(proc["performed_at"])
    color = PROCEDURE_COLORS.get(proc["kind"], PROCEDURE_COLORS["other"])
    ax.axvline(x, color=color, ls="--", lw=1.0, alpha=0.8, zorder=1)
    ax.annotate(
        _short_kind(proc),
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(2, -2),
        textcoords="offset points",
        rotation=90,
        va="top",
        ha="left",
        fontsize=7,
        color=color,
    )


def _healed(ax: Any, healed: date) -> None:
    ax.axvline(healed, color="#2e7d32", lw=2.0, zorder=1)
    ax.annotate(
        "healed",
        (healed, 0.5),
        xycoords=("data", "axes fraction"),
        xytext=(3, 0),
        textcoords="offset points",
        rotation=90,
        va="center",
        fontsize=8,
        color="#2e7d32",
    )


def _frame(ax: Any, trajectory: dict[str, Any], measured: bool) -> None:
    """Date ticks, the y label and grid, and a title with the status and PAR."""
    # lazy: see the module docstring (about 50 MB of RSS only chart requests need)
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_ylabel("area (cm²)")
    ax.grid(True, axis="y", color="#eceff1")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    title = f"{trajectory.get('body_site') or 'wound'}: {trajectory['status'].replace('_', ' ')}"
    if trajectory.get("par_pct") is not None:
        title += f" (PAR {trajectory['par_pct']:g}%)"
    ax.set_title(title, fontsize=10, loc="left")
    if not measured:
        ax.text(0.5, 0.5, "no measured assessments", transform=ax.transAxes, ha="center")


def _grade_legend(ax: Any, series: list[dict[str, Any]]) -> None:
    """One legend entry per CTCAE grade drawn."""
    from matplotlib.lines import Line2D  # lazy: see the module docstring

    handles = [
        Line2D([], [], marker="o", ls="", color=GRADE_COLORS[g], label=f"CTCAE {g}")
        for g in sorted({s["ctcae_grade"] for s in series if s["ctcae_grade"] is not None})
    ]
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper right", frameon=False, ncol=len(handles))


def render(trajectory: dict[str, Any], fmt: str, width: int, height: int) -> bytes:
    """The chart as PNG or SVG bytes, ``width`` x ``height`` pixels."""
    # lazy: see the module docstring (about 50 MB of RSS only chart requests need)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    dpi = DPI_SVG if fmt == "svg" else DPI_RASTER
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
    canvas = FigureCanvasSVG(fig) if fmt == "svg" else FigureCanvasAgg(fig)
    _draw(fig, trajectory)
    buf = io.BytesIO()
    if fmt == "svg":
        canvas.print_svg(buf, metadata={"Date": None})
        out = buf.getvalue()
        # Points at 72 dpi are pixels: say so, so the browser draws it at the asked size.
        return out.replace(
            f'width="{width}pt" height="{height}pt"'.encode(),
            f'width="{width}px" height="{height}px"'.encode(),
            1,
        )
    canvas.print_png(buf, metadata={"Software": None})
    return buf.getvalue()
