"""How the clinic pages print values: codes as words, dates, times and numbers.

The templates reach these through the blueprint's context processor
(app/web/blueprint.py) as ``label``, ``fmt_date``, ``fmt_dt`` and ``fmt_num``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def label(value: Any) -> str:
    """snake_case codes as words ("on_track" -> "on track")."""
    if value is None:
        return "—"
    return str(value).replace("_", " ")


def fmt_date(value: Any) -> str:
    """A date (or the UTC date of a datetime, or an ISO string's date part)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        return value[:10]
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def fmt_dt(value: Any) -> str:
    """A moment in UTC to the minute (naive datetimes are taken as UTC)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def fmt_num(value: Any, digits: int = 1) -> str:
    """A number with a fixed count of decimals."""
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"
