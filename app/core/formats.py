"""Text forms of values that several answers print the same way."""

from __future__ import annotations

from datetime import date, datetime


def iso(value: date | datetime | None) -> str | None:
    """ISO 8601 text of a date or datetime; None stays None."""
    return None if value is None else value.isoformat()
