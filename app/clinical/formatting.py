"""How clinical numbers and instants are written in rules, notes and results.

One copy of each: the trajectory's rules and notes quote thresholds, days and
areas in these forms, and its results give instants in UTC ISO 8601. Pure
functions, standard library only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_utc(at: datetime) -> str:
    """An aware datetime in UTC, ISO 8601."""
    return at.astimezone(UTC).isoformat()


def area_point(at: datetime, area_cm2: float) -> dict[str, Any]:
    """{"at": iso_utc(at), "area_cm2": area_cm2}: a trajectory's baseline or latest."""
    # Skips astimezone for UTC, what the database gives (this runs twice per wound)
    utc = at if at.tzinfo is UTC else at.astimezone(UTC)
    return {"at": utc.isoformat(), "area_cm2": area_cm2}


def fmt(value: float) -> str:
    """A number as shown in rules: one decimal, no trailing zero.

    That is f"{round(value, 1):g}"; below 99999.95 (where "g", six significant
    digits, would switch to an exponent or drop the decimal) it is the ".1f"
    text without a trailing ".0": both round the exact binary value half to
    even, and round() with digits is several times slower than formatting.
    """
    if not -99999.95 < value < 99999.95:
        return f"{round(value, 1):g}"
    text = f"{value:.1f}"
    return text[:-2] if text[-1] == "0" else text


def fmt_area(value: float) -> str:
    """An area as shown in rules: two decimals and the unit, "3.50 cm2"."""
    return f"{value:.2f} cm2"


def change_words(pct: float) -> str:
    """A percent area reduction as what happened: "fell 5%", "grew 7.5%" (a
    negative reduction is growth, never "fell -7.5%"), "did not change" when it
    shows as 0."""
    shown = fmt(abs(pct))
    if shown == "0":
        return "did not change"
    return f"fell {shown}%" if pct > 0 else f"grew {shown}%"


def change_noun(pct: float) -> str:
    """A percent area reduction as a noun: "a fall of 51%", "growth of 19%", "no change"."""
    shown = fmt(abs(pct))
    if shown == "0":
        return "no change"
    return f"a fall of {shown}%" if pct > 0 else f"growth of {shown}%"
